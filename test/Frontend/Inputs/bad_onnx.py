"""Write small ONNX files that the importer must reject with a clear error.

    bad_onnx.py KIND OUT.onnx

KIND is one of:
  truncated         a valid Conv model cut in the middle of its weights
  unsupported-op    a Relu followed by a TopK node named 'my_topk'
  unsupported-attr  a Relu followed by a Conv named 'Conv_12' with
                    auto_pad='SAME_LOWER'
  dynamic           an input whose batch dimension is symbolic ('batch')

Only onnx + numpy are needed (run with /usr/bin/python3).
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_model(auto_pad: str | None = None, batch="1"):
    """x (1x4x8x8) -> Relu -> Conv 3x3 (4 -> 4) -> y."""
    batch_dim = int(batch) if batch.isdigit() else batch
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                      [batch_dim, 4, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(
        np.random.default_rng(0).standard_normal((4, 4, 3, 3))
        .astype(np.float32), "w")
    attrs = {"kernel_shape": [3, 3]}
    if auto_pad:
        attrs["auto_pad"] = auto_pad
    else:
        attrs["pads"] = [1, 1, 1, 1]
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="Relu_0"),
             helper.make_node("Conv", ["r", "w"], ["y"], name="Conv_12",
                              **attrs)]
    graph = helper.make_graph(nodes, "g", [x], [y], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("",
                                                                       17)])


def topk_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])
    v = helper.make_tensor_value_info("v", TensorProto.FLOAT, None)
    i = helper.make_tensor_value_info("i", TensorProto.INT64, None)
    k = numpy_helper.from_array(np.array([4], np.int64), "k")
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="Relu_0"),
             helper.make_node("TopK", ["r", "k"], ["v", "i"],
                              name="my_topk")]
    graph = helper.make_graph(nodes, "g", [x], [v, i], [k])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("",
                                                                       17)])


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    kind, path = argv
    if kind == "truncated":
        data = conv_model().SerializeToString()
        with open(path, "wb") as f:
            f.write(data[:len(data) // 2])
        return 0
    model = {"unsupported-op": topk_model,
             "unsupported-attr": lambda: conv_model("SAME_LOWER"),
             "dynamic": lambda: conv_model(batch="batch")}[kind]()
    onnx.save(model, path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
