"""Import an ONNX model as Linalg-on-tensors MLIR (f32), using onnx + numpy.

The output is one public ``func.func @forward`` whose arguments are the graph
inputs followed by one argument per weight tensor (each weight argument
carries ``{tcl.name = "<ONNX initializer name>"}``), returning the graph
outputs.  The weight values go to a ``.npz`` file (``numpy.savez``; key
``argN`` is function argument N, weights only, in the layout the MLIR
expects), so the ``.mlir`` stays small and a runner can feed the weights.

Usage::

    PYTHONPATH=python /usr/bin/python3 -m tcl.onnx_import model.onnx \\
        -o model.mlir [--weights model.npz]

How the graph is written:

- Activations of rank 4 are NHWC inside the function: the NCHW graph input is
  transposed once at the start, and a value goes back to NCHW only where an
  op needs NCHW order (Reshape/Flatten of a tensor with H*W > 1, MatMul,
  graph outputs, ...).  Filters are HWCF for ``linalg.conv_2d_nhwc_hwcf``,
  HWC for ``linalg.depthwise_conv_2d_nhwc_hwc`` (groups == C_in == C_out) and
  GFHWC for ``linalg.conv_2d_nhwgc_gfhwc`` (other grouped convolutions).
- Anchors are written as a front end emits them: ``tensor.empty`` +
  ``linalg.fill`` + the named op (conv, pooling, matmul, batch_matmul) or a
  reducing ``linalg.generic`` (softmax, layer norm, ReduceMean), then each
  elementwise ONNX op as its own all-parallel ``linalg.generic``;
  ``tcl-opt --linalg-fuse-elementwise-ops`` fuses the chains.
- BatchNormalization folds into the preceding Conv when that conv's output
  has no other user (the folded weights go to the .npz); otherwise it is an
  elementwise scale and shift whose parameters are arguments.
- Subgraphs of constants (Shape, Gather, Constant, Cast, ...) are evaluated
  with numpy at import time.  Scalars become ``arith.constant``; larger
  float constants become weight arguments.

Errors (unsupported op or attribute, dynamic dimension, unreadable file)
raise `OnnxImportError`, whose message names the node, its op type and the
attribute; the CLI prints it without a traceback and exits with status 1.
Nothing is written unless the whole import succeeds: the .mlir and .npz go to
temporary files in the target directory that are renamed at the end.
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

try:
    import onnx
    from onnx import numpy_helper
except ImportError:  # reported by import_model / the CLI
    onnx = None

# -inf as an f32 bit pattern: the identity of max and the pad value of max
# pooling.
NEG_INF = "0xFF800000"

# Logical (NCHW) axis -> physical (NHWC) axis, and back.
NCHW_TO_NHWC = (0, 2, 3, 1)  # physical dims as a permutation of logical
NHWC_TO_NCHW = (0, 3, 1, 2)
LOGICAL_TO_PHYSICAL = {0: 0, 1: 3, 2: 1, 3: 2}


class OnnxImportError(Exception):
    """An ONNX model that this importer cannot translate."""


def node_error(node, message: str) -> OnnxImportError:
    """An error naming `node` ('name' (OpType)) and the problem."""
    name = node.name or (node.output[0] if node.output else "?")
    return OnnxImportError(f"node '{name}' ({node.op_type}): {message}")


# ---------------------------------------------------------------------------
# MLIR text helpers
# ---------------------------------------------------------------------------


def tensor_type(shape: Sequence[int]) -> str:
    """`tensor<AxBxf32>` (`tensor<f32>` for rank 0)."""
    if not shape:
        return "tensor<f32>"
    return "tensor<" + "x".join(str(int(d)) for d in shape) + "xf32>"


def affine_map(rank: int, results: Sequence[str]) -> str:
    dims = ", ".join(f"d{i}" for i in range(rank))
    return f"affine_map<({dims}) -> ({', '.join(results)})>"


def f32_literal(value: float) -> str:
    """An MLIR f32 literal that round-trips to the same f32."""
    v = np.float32(value)
    if not np.isfinite(v):
        return "0x" + v.view(np.uint32).item().to_bytes(4, "big").hex().upper()
    text = repr(float(v))
    if "e" not in text and "." not in text:
        text += ".0"
    return text


def ints(values: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def reassociation(groups: Sequence[Sequence[int]]) -> str:
    return "[" + ", ".join(ints(g) for g in groups) + "]"


@dataclass
class Value:
    """An SSA tensor value.  `shape` is the physical shape of the MLIR
    tensor.  When `nhwc` is set the value is a rank-4 ONNX (NCHW) tensor
    stored as NHWC; otherwise the ONNX shape is `lead` unit dims followed
    by `shape` (leading unit dims are dropped so that, e.g., BERT's
    1 x 128 x 768 activations are 2-D and feed `linalg.matmul` directly)."""

    name: str
    shape: tuple[int, ...]
    nhwc: bool = False
    lead: int = 0

    @property
    def type(self) -> str:
        return tensor_type(self.shape)

    @property
    def logical_shape(self) -> tuple[int, ...]:
        if self.nhwc:
            return tuple(self.shape[i] for i in NHWC_TO_NCHW)
        return (1,) * self.lead + self.shape


def canonical_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """`shape` without its leading unit dims, keeping at least 2 dims."""
    shape = tuple(int(d) for d in shape)
    k = 0
    while k < len(shape) - 2 and shape[k] == 1:
        k += 1
    return shape[k:]


@dataclass
class WeightArg:
    """A function argument fed from the .npz."""

    name: str  # ONNX name, for the tcl.name attribute
    array: np.ndarray
    value: Value


@dataclass
class Summary:
    """What an import produced (printed by the CLI)."""

    nodes: int
    ops: collections.Counter
    weights: int
    weight_bytes: int
    inputs: list[str]
    outputs: list[str]

    def text(self) -> str:
        anchors = ", ".join(f"{n} {op}" for op, n in sorted(self.ops.items())
                            if not op.startswith(("tensor.", "arith.")))
        return (f"{self.nodes} ONNX nodes; {sum(self.ops.values())} ops "
                f"emitted ({anchors}); {self.weights} weights, "
                f"{self.weight_bytes / 2**20:.1f} MiB")


class Body:
    """The scalar region of a `linalg.generic` under construction."""

    def __init__(self, fn: "Function", args: Sequence[str]) -> None:
        self.fn = fn
        self.args = list(args)
        self.lines: list[str] = []
        self._n = 0

    def op(self, name: str, *operands: str) -> str:
        self._n += 1
        result = f"%b{self._n}"
        self.lines.append(f"{result} = {name} {', '.join(operands)} : f32")
        return result

    def cst(self, value: float) -> str:
        return self.fn.f32_const(value)


# A scalar function body: (body, input scalars) -> result scalar.
BodyFn = Callable[[Body, Sequence[str]], str]


class Function:
    """Accumulates the body of `@forward`: arguments, hoisted constants and
    the ops, and counts the ops emitted."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, str] = {}
        self.weights: list[WeightArg] = []
        self.weight_ids: dict[tuple, Value] = {}
        self.ops: collections.Counter = collections.Counter()
        self._n = 0

    # -- names and constants ------------------------------------------------
    def fresh(self, hint: str) -> str:
        self._n += 1
        return f"%{hint}{self._n}"

    def f32_const(self, value: float) -> str:
        literal = f32_literal(value)
        if literal not in self.consts:
            self.consts[literal] = f"%cst{len(self.consts)}"
        return self.consts[literal]

    def emit(self, op: str, line: str) -> None:
        self.ops[op] += 1
        self.lines.append("  " + line)

    def weight(self, key: tuple, name: str, array: np.ndarray) -> Value:
        """The argument holding `array` (deduplicated by `key`)."""
        if key in self.weight_ids:
            return self.weight_ids[key]
        array = np.ascontiguousarray(array, dtype=np.float32)
        value = Value(f"%w{len(self.weights)}", tuple(array.shape))
        self.weights.append(WeightArg(name, array, value))
        self.weight_ids[key] = value
        return value

    # -- ops ----------------------------------------------------------------
    def empty(self, shape: Sequence[int]) -> Value:
        v = Value(self.fresh("e"), tuple(shape))
        self.emit("tensor.empty", f"{v.name} = tensor.empty() : {v.type}")
        return v

    def filled(self, shape: Sequence[int], literal: float) -> Value:
        e = self.empty(shape)
        v = Value(self.fresh("fill"), tuple(shape))
        self.emit("linalg.fill",
                  f"{v.name} = linalg.fill ins({self.f32_const(literal)} : "
                  f"f32) outs({e.name} : {e.type}) -> {v.type}")
        return v

    def transpose(self, x: Value, perm: Sequence[int],
                  nhwc: bool = False) -> Value:
        if list(perm) == list(range(len(perm))):
            return Value(x.name, x.shape, nhwc)
        shape = tuple(x.shape[p] for p in perm)
        e = self.empty(shape)
        v = Value(self.fresh("t"), shape, nhwc)
        self.emit("linalg.transpose",
                  f"{v.name} = linalg.transpose ins({x.name} : {x.type}) "
                  f"outs({e.name} : {e.type}) permutation = {ints(perm)}")
        return v

    def collapse(self, x: Value, groups: Sequence[Sequence[int]],
                 nhwc: bool = False) -> Value:
        shape = tuple(int(np.prod([x.shape[i] for i in g], dtype=np.int64))
                      for g in groups)
        v = Value(self.fresh("c"), shape, nhwc)
        self.emit("tensor.collapse_shape",
                  f"{v.name} = tensor.collapse_shape {x.name} "
                  f"{reassociation(groups)} : {x.type} into {v.type}")
        return v

    def expand(self, x: Value, groups: Sequence[Sequence[int]],
               shape: Sequence[int], nhwc: bool = False) -> Value:
        v = Value(self.fresh("x"), tuple(shape), nhwc)
        self.emit("tensor.expand_shape",
                  f"{v.name} = tensor.expand_shape {x.name} "
                  f"{reassociation(groups)} output_shape {ints(shape)} : "
                  f"{x.type} into {v.type}")
        return v

    def reshape(self, x: Value, shape: Sequence[int]) -> Value:
        """`x` (a plain value) reshaped to `shape` in row-major order, as a
        collapse_shape and/or an expand_shape."""
        shape = tuple(int(d) for d in shape)
        if x.shape == shape:
            return Value(x.name, x.shape)
        if int(np.prod(x.shape)) != int(np.prod(shape)):
            raise OnnxImportError(f"cannot reshape {x.shape} to {shape}")
        src_groups, dst_groups = _segments(x.shape, shape)
        mid = tuple(int(np.prod([x.shape[i] for i in g])) for g in src_groups)
        y = x
        if mid != x.shape:
            y = self.collapse(x, src_groups)
        if mid != shape:
            y = self.expand(y, dst_groups, shape)
        return y

    def pad(self, x: Value, low: Sequence[int], high: Sequence[int],
            literal: float) -> Value:
        if not any(low) and not any(high):
            return x
        shape = tuple(d + lo + hi for d, lo, hi in zip(x.shape, low, high))
        v = Value(self.fresh("pad"), shape, x.nhwc)
        idx = ", ".join(f"%i{i}: index" for i in range(len(shape)))
        self.emit("tensor.pad",
                  f"{v.name} = tensor.pad {x.name} low{ints(low)} "
                  f"high{ints(high)} {{\n  ^bb0({idx}):\n"
                  f"    tensor.yield {self.f32_const(literal)} : f32\n"
                  f"  }} : {x.type} to {v.type}")
        return v

    def extract_slice(self, x: Value, offsets: Sequence[int],
                      sizes: Sequence[int], strides: Sequence[int],
                      result_shape: Sequence[int] | None = None) -> Value:
        shape = tuple(result_shape if result_shape is not None else sizes)
        v = Value(self.fresh("s"), shape, x.nhwc and len(shape) == 4)
        self.emit("tensor.extract_slice",
                  f"{v.name} = tensor.extract_slice {x.name}{ints(offsets)} "
                  f"{ints(sizes)} {ints(strides)} : {x.type} to {v.type}")
        return v

    def insert_slice(self, x: Value, into: Value,
                     offsets: Sequence[int]) -> Value:
        v = Value(self.fresh("ins"), into.shape, into.nhwc)
        self.emit("tensor.insert_slice",
                  f"{v.name} = tensor.insert_slice {x.name} into "
                  f"{into.name}{ints(offsets)} {ints(x.shape)} "
                  f"{ints([1] * len(x.shape))} : {x.type} into {into.type}")
        return v

    def named(self, op: str, attrs: str, ins: Sequence[Value],
              init: Value, nhwc: bool = False) -> Value:
        hint = op.split(".")[-1].split("_")[0]
        v = Value(self.fresh(hint), init.shape, nhwc)
        attr_text = f" {{{attrs}}}" if attrs else ""
        self.emit(op,
                  f"{v.name} = {op}{attr_text} ins("
                  f"{', '.join(i.name for i in ins)} : "
                  f"{', '.join(i.type for i in ins)}) outs({init.name} : "
                  f"{init.type}) -> {v.type}")
        return v

    def generic(self, ins: Sequence[tuple[Value, Sequence[str]]], out: Value,
                rank: int, reduction_dims: Sequence[int], body: BodyFn,
                nhwc: bool = False, hint: str = "g") -> Value:
        """A `linalg.generic` over `rank` loops.  `ins` pairs each input with
        its indexing expressions (e.g. ["d0", "d2"]); the output is indexed
        by the parallel loops.  `body(b, [in0, in1, ..., acc])` returns the
        yielded scalar."""
        out_dims = [f"d{d}" for d in range(rank) if d not in reduction_dims]
        maps = [affine_map(rank, e) for _, e in ins]
        maps.append(affine_map(rank, out_dims))
        iters = ", ".join('"reduction"' if d in reduction_dims else
                          '"parallel"' for d in range(rank))
        args = [f"%in{i}" for i in range(len(ins))] + ["%out"]
        b = Body(self, args)
        result = body(b, args)
        v = Value(self.fresh(hint), out.shape, nhwc)
        names = ", ".join(i.name for i, _ in ins)
        types = ", ".join(i.type for i, _ in ins)
        ins_text = f"ins({names} : {types}) " if ins else ""
        lines = [f"{v.name} = linalg.generic {{indexing_maps = "
                 f"[{', '.join(maps)}], iterator_types = [{iters}]}} "
                 f"{ins_text}outs({out.name} : {out.type}) {{",
                 "  ^bb0(" + ", ".join(f"{a}: f32" for a in args) + "):"]
        lines += ["    " + line for line in b.lines]
        lines += [f"    linalg.yield {result} : f32", f"  }} -> {v.type}"]
        self.emit("linalg.generic", "\n".join(lines))
        return v


def _segments(src: Sequence[int], dst: Sequence[int]):
    """Splits `src` and `dst` (same element count) into consecutive groups
    of equal products; returns (src groups, dst groups) as index lists."""
    if not dst or not src:  # unit dims to or from rank 0
        return [], []
    src_groups, dst_groups = [], []
    i = j = 0
    while i < len(src) or j < len(dst):
        sg, dg = [], []
        ps = pd = 1
        if i < len(src):
            sg.append(i)
            ps *= src[i]
            i += 1
        if j < len(dst):
            dg.append(j)
            pd *= dst[j]
            j += 1
        while ps != pd:
            if ps < pd and i < len(src):
                sg.append(i)
                ps *= src[i]
                i += 1
            elif j < len(dst):
                dg.append(j)
                pd *= dst[j]
                j += 1
            else:
                raise OnnxImportError(f"cannot reshape {src} to {dst}")
        if not sg:  # trailing unit dims of dst
            dst_groups[-1].extend(dg)
        elif not dg:  # trailing unit dims of src
            src_groups[-1].extend(sg)
        else:
            src_groups.append(sg)
            dst_groups.append(dg)
    return src_groups, dst_groups


# ---------------------------------------------------------------------------
# Constant evaluation
# ---------------------------------------------------------------------------


def attrs_of(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _norm_axes(axes: Iterable[int], rank: int) -> list[int]:
    return [int(a) + rank if int(a) < 0 else int(a) for a in axes]


def _slice_params(node, shape: Sequence[int], starts, ends, axes, steps):
    """Normalized (start, stop, step) per axis for ONNX Slice."""
    rank = len(shape)
    axes = list(range(len(starts))) if axes is None else _norm_axes(axes, rank)
    steps = [1] * len(starts) if steps is None else list(steps)
    result = {a: (0, shape[a], 1) for a in range(rank)}
    for a, s, e, st in zip(axes, starts, ends, steps):
        if st <= 0:
            raise node_error(node, f"unsupported attribute steps={st} "
                             "(only positive steps)")
        dim = shape[a]
        s = int(max(0, min(dim, s + dim if s < 0 else s)))
        e = int(max(0, min(dim, e + dim if e < 0 else e)))
        result[a] = (s, max(s, e), int(st))
    return result


def eval_constant(node, inputs: list, opset: int):
    """Evaluates `node` on numpy arrays; returns the list of outputs or
    None when the op has no constant evaluation here."""
    op, a = node.op_type, attrs_of(node)
    x = inputs[0] if inputs else None
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
              "Equal": np.equal, "Less": np.less, "Greater": np.greater,
              "Max": np.maximum, "Min": np.minimum, "And": np.logical_and,
              "Or": np.logical_or}
    unary = {"Sqrt": np.sqrt, "Neg": np.negative, "Floor": np.floor,
             "Ceil": np.ceil, "Abs": np.abs, "Not": np.logical_not,
             "Exp": np.exp, "Reciprocal": np.reciprocal, "Relu":
             lambda v: np.maximum(v, 0)}
    if op in ("Identity", "Dropout"):
        return [x]
    if op in binary:
        return [binary[op](inputs[0], inputs[1])]
    if op in unary:
        return [unary[op](x)]
    if op == "Div":
        if np.issubdtype(x.dtype, np.integer):
            return [np.floor_divide(x, inputs[1])]
        return [np.divide(x, inputs[1])]
    if op == "Pow":
        return [np.power(x, inputs[1]).astype(x.dtype)]
    if op == "Cast":
        to = onnx.helper.tensor_dtype_to_np_dtype(a["to"])
        return [x.astype(to)]
    if op == "Gather":
        return [np.take(x, inputs[1], axis=a.get("axis", 0))]
    if op == "Unsqueeze":
        axes = a.get("axes") if opset < 13 else inputs[1]
        out_rank = x.ndim + len(axes)
        return [np.expand_dims(x, tuple(_norm_axes(axes, out_rank)))]
    if op == "Squeeze":
        axes = a.get("axes") if opset < 13 else (
            inputs[1] if len(inputs) > 1 else None)
        if axes is None:
            return [np.squeeze(x)]
        return [np.squeeze(x, tuple(_norm_axes(axes, x.ndim)))]
    if op == "Concat":
        return [np.concatenate(inputs, axis=a["axis"])]
    if op == "Reshape":
        return [x.reshape(_reshape_target(node, x.shape, inputs[1]))]
    if op == "Transpose":
        return [np.transpose(x, a.get("perm"))]
    if op == "Flatten":
        axis = a.get("axis", 1)
        axis = axis + x.ndim if axis < 0 else axis
        return [x.reshape(int(np.prod(x.shape[:axis])), -1)]
    if op == "ConstantOfShape":
        value = a.get("value")
        fill = numpy_helper.to_array(value) if value is not None else \
            np.zeros(1, np.float32)
        return [np.full(tuple(int(d) for d in x), fill.flatten()[0],
                        dtype=fill.dtype)]
    if op == "Range":
        return [np.arange(inputs[0], inputs[1], inputs[2]).astype(x.dtype)]
    if op == "Where":
        return [np.where(inputs[0], inputs[1], inputs[2])]
    if op == "Expand":
        return [x * np.ones(tuple(int(d) for d in inputs[1]), x.dtype)]
    if op == "Slice":
        if opset < 10:
            starts, ends, axes, steps = (a["starts"], a["ends"],
                                         a.get("axes"), None)
        else:
            starts, ends = inputs[1], inputs[2]
            axes = inputs[3] if len(inputs) > 3 else None
            steps = inputs[4] if len(inputs) > 4 else None
        params = _slice_params(node, x.shape, starts, ends, axes, steps)
        return [x[tuple(slice(*params[d]) for d in range(x.ndim))]]
    if op == "ReduceProd":
        axes = a.get("axes")
        keep = bool(a.get("keepdims", 1))
        return [np.prod(x, axis=None if axes is None else tuple(axes),
                        keepdims=keep)]
    return None


def _reshape_target(node, in_shape: Sequence[int], target) -> list[int]:
    """The output shape of ONNX Reshape (0 copies, -1 is inferred)."""
    target = [int(d) for d in target]
    allow_zero = attrs_of(node).get("allowzero", 0)
    out = []
    for i, d in enumerate(target):
        out.append(in_shape[i] if d == 0 and not allow_zero else d)
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1]))
        out[out.index(-1)] = int(np.prod(in_shape)) // max(known, 1)
    if int(np.prod(out)) != int(np.prod(in_shape)):
        raise node_error(node, f"cannot reshape {list(in_shape)} to {target}")
    return out


# ---------------------------------------------------------------------------
# The importer
# ---------------------------------------------------------------------------


class Importer:
    """Translates one ONNX graph into the body of `@forward`."""

    def __init__(self, model) -> None:
        self.model = model
        self.graph = model.graph
        self.opset = next((o.version for o in model.opset_import
                           if o.domain in ("", "ai.onnx")), 13)
        self.fn = Function()
        self.env: dict[str, object] = {}  # ONNX name -> Value | np.ndarray
        self.inputs: list[Value] = []
        self.input_names: list[str] = []
        self.outputs: list[Value] = []
        self.nodes = list(self.graph.node)

    # -- values -------------------------------------------------------------
    def get(self, node, index: int):
        if index >= len(node.input) or not node.input[index]:
            return None
        name = node.input[index]
        if name not in self.env:
            raise node_error(node, f"input '{name}' is not defined")
        return self.env[name]

    def const_input(self, node, index: int, what: str) -> np.ndarray | None:
        v = self.get(node, index)
        if isinstance(v, Value):
            raise node_error(node, f"unsupported non-constant {what} "
                             f"(input {index} '{node.input[index]}')")
        return v

    def as_value(self, node, index: int, key_extra: tuple = ()) -> Value:
        """Input `index` as an SSA value (a constant becomes a weight)."""
        v = self.get(node, index)
        if isinstance(v, Value):
            return v
        name = node.input[index]
        return self.fn.weight((name,) + key_extra, name,
                              np.asarray(v, dtype=np.float32))

    def plain(self, v: Value) -> Value:
        """`v` in ONNX dim order (possibly with leading unit dims dropped;
        see `Value.lead`)."""
        if not v.nhwc:
            return v
        n, h, w, c = v.shape
        if h == 1 and w == 1:  # same element order; no data movement
            return self.fn.reshape(Value(v.name, v.shape), (n, c, h, w))
        return self.fn.transpose(v, NHWC_TO_NCHW)

    def full(self, v: Value) -> Value:
        """`v` with its physical shape equal to its ONNX shape."""
        v = self.plain(v)
        if v.lead == 0:
            return v
        return self.fn.reshape(Value(v.name, v.shape), v.logical_shape)

    def full_or_nhwc(self, v: Value) -> Value:
        return v if v.nhwc else self.full(v)

    def reshape_to(self, v: Value, shape: Sequence[int]) -> Value:
        """`v` (in ONNX dim order) reshaped to the ONNX shape `shape`,
        stored without leading unit dims."""
        v = self.plain(v)
        target = canonical_shape(shape)
        r = self.fn.reshape(Value(v.name, v.shape), target)
        return Value(r.name, r.shape, False, len(shape) - len(target))

    def to_nhwc(self, v: Value) -> Value:
        if v.nhwc:
            return v
        v = self.full(v)
        n, c, h, w = v.shape
        if h == 1 and w == 1:
            r = self.fn.reshape(v, (n, h, w, c))
            return Value(r.name, r.shape, True)
        return self.fn.transpose(v, NCHW_TO_NHWC, nhwc=True)

    def set(self, name: str, value) -> None:
        self.env[name] = value

    def set_canonical(self, name: str, value: Value) -> None:
        """Binds `name` to `value` with its leading unit dims dropped (see
        `Value.lead`), so that the matmuls and elementwise ops after it
        need no reshapes."""
        if not value.nhwc:
            value = self.reshape_to(value, value.logical_shape)
        self.env[name] = value

    # -- driver -------------------------------------------------------------
    def run(self) -> None:
        initializers = {}
        for init in self.graph.initializer:
            try:
                initializers[init.name] = numpy_helper.to_array(init)
            except Exception as err:
                raise OnnxImportError(
                    f"cannot read initializer '{init.name}': {err}") from err
        self.env.update(initializers)
        for inp in self.graph.input:
            if inp.name in initializers:
                continue
            self.add_input(inp)
        self.fold_batchnorms()
        for node in self.nodes:
            self.convert(node)
        for out in self.graph.output:
            v = self.env.get(out.name)
            if not isinstance(v, Value):
                raise OnnxImportError(f"graph output '{out.name}' is a "
                                      "constant; nothing to compute")
            self.outputs.append(self.full(v))

    def add_input(self, inp) -> None:
        t = inp.type.tensor_type
        if t.elem_type != onnx.TensorProto.FLOAT:
            raise OnnxImportError(
                f"graph input '{inp.name}': element type "
                f"{onnx.TensorProto.DataType.Name(t.elem_type)} is not "
                "supported (only float32)")
        if not t.HasField("shape"):
            raise OnnxImportError(f"graph input '{inp.name}' has no shape")
        shape = []
        for i, d in enumerate(t.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                shape.append(d.dim_value)
            else:
                what = (f"symbolic '{d.dim_param}'" if d.dim_param
                        else "unknown")
                raise OnnxImportError(
                    f"graph input '{inp.name}': dynamic dimension {i} "
                    f"({what}); only static shapes are supported "
                    "(export with fixed input sizes)")
        arg = Value(f"%arg{len(self.inputs)}", tuple(shape))
        self.inputs.append(arg)
        self.input_names.append(inp.name)
        self.set(inp.name, self.to_nhwc(arg) if len(shape) == 4
                 else self.reshape_to(arg, shape))

    def fold_batchnorms(self) -> None:
        """Folds BatchNormalization into the Conv producing its input when
        the conv output has no other user and all parameters are constant;
        the BN node is dropped and the conv writes the BN's output."""
        users = collections.Counter(i for n in self.nodes for i in n.input)
        outputs = {o.name for o in self.graph.output}
        producer = {o: n for n in self.nodes for o in n.output}
        self.folded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        keep = []
        for node in self.nodes:
            conv = producer.get(node.input[0]) if node.input else None
            params = [self.env.get(i) for i in node.input[1:5]]
            if (node.op_type == "BatchNormalization" and conv is not None
                    and conv.op_type == "Conv" and len(node.input) == 5
                    and users[node.input[0]] == 1
                    and node.input[0] not in outputs
                    and all(isinstance(p, np.ndarray) for p in params)
                    and isinstance(self.env.get(conv.input[1]), np.ndarray)
                    and (len(conv.input) < 3 or not conv.input[2] or
                         isinstance(self.env.get(conv.input[2]), np.ndarray))
                    and not attrs_of(node).get("training_mode", 0)
                    and (len(node.output) == 1 or not any(node.output[1:]))):
                gamma, beta, mean, var = (p.astype(np.float64)
                                          for p in params)
                eps = attrs_of(node).get("epsilon", 1e-5)
                w = self.env[conv.input[1]].astype(np.float64)
                b = (self.env[conv.input[2]].astype(np.float64)
                     if len(conv.input) > 2 and conv.input[2]
                     else np.zeros(w.shape[0]))
                scale = gamma / np.sqrt(var + eps)
                w = w * scale.reshape(-1, *([1] * (w.ndim - 1)))
                b = (b - mean) * scale + beta
                conv.output[0] = node.output[0]
                self.folded[node.output[0]] = (w.astype(np.float32),
                                               b.astype(np.float32))
                continue
            keep.append(node)
        self.nodes = keep

    def convert(self, node) -> None:
        inputs = [self.env.get(i) if i else None for i in node.input]
        for i, name in enumerate(node.input):
            if name and name not in self.env:
                raise node_error(node, f"input '{name}' is not defined")
        if node.op_type == "Constant":
            self.set(node.output[0], self.constant_attr(node))
            return
        if node.op_type == "Shape":
            v = inputs[0]
            shape = v.logical_shape if isinstance(v, Value) else v.shape
            a = attrs_of(node)
            start, end = a.get("start", 0), a.get("end", len(shape))
            self.set(node.output[0], np.array(shape[start:end], np.int64))
            return
        if inputs and all(i is None or isinstance(i, np.ndarray)
                          for i in inputs):
            present = [i for i in inputs]
            result = eval_constant(node, present, self.opset)
            if result is not None:
                for name, r in zip(node.output, result):
                    self.set(name, np.asarray(r))
                return
        handler = getattr(self, "op_" + node.op_type, None)
        if handler is None:
            raise node_error(node, "unsupported op type")
        handler(node)

    def constant_attr(self, node) -> np.ndarray:
        a = attrs_of(node)
        if "value" in a:
            return numpy_helper.to_array(a["value"])
        for key, dtype in (("value_float", np.float32),
                           ("value_floats", np.float32),
                           ("value_int", np.int64),
                           ("value_ints", np.int64)):
            if key in a:
                return np.array(a[key], dtype)
        raise node_error(node, "unsupported attribute "
                         f"{', '.join(a) or '(none)'}")

    def check_attrs(self, node, allowed: dict) -> dict:
        """The node's attributes; raises on one that is not in `allowed`
        or, when `allowed[name]` is a predicate, whose value fails it."""
        a = attrs_of(node)
        for name, value in a.items():
            if name not in allowed:
                raise node_error(node, f"unsupported attribute {name}="
                                 f"{_show(value)}")
            check = allowed[name]
            if check is not None and not check(value):
                raise node_error(node, f"unsupported attribute {name}="
                                 f"{_show(value)}")
        return a

    # -- elementwise --------------------------------------------------------
    def elementwise(self, node, operands: Sequence, body: BodyFn,
                    out_name: str | None = None) -> Value:
        """An all-parallel generic over the numpy broadcast of `operands`
        (Values or numpy constants); constants of one element become
        scalars in the body."""
        values = [o for o in operands if isinstance(o, Value)]
        if not values:
            raise node_error(node, "no tensor operand")
        logical = [o.logical_shape if isinstance(o, Value) else
                   tuple(np.shape(o)) for o in operands]
        try:
            out_logical = tuple(np.broadcast_shapes(*logical))
        except ValueError as err:
            raise node_error(node, f"shapes {logical} do not broadcast") \
                from err
        nhwc = len(out_logical) == 4 and any(v.nhwc for v in values)
        if nhwc:
            out_shape = tuple(out_logical[i] for i in NCHW_TO_NHWC)
        else:
            # Drop leading unit dims, but keep every operand's dims.
            keep = max([len(canonical_shape(out_logical))] +
                       [len(self.plain(v).shape) for v in values])
            out_shape = out_logical[len(out_logical) - keep:]
        rank = len(out_shape)
        ins: list[tuple[Value, list[str]]] = []
        slots: list = []  # per operand: ("in", k) or ("cst", name)
        for idx, o in enumerate(operands):
            if isinstance(o, Value):
                if nhwc:
                    if len(o.logical_shape) < 4:
                        o = self.reshape_to(
                            o, (1,) * (4 - len(o.logical_shape)) +
                            o.logical_shape)
                    o = self.to_nhwc(o)
                else:
                    o = self.plain(o)
                shape = o.shape
            else:
                arr = np.asarray(o, dtype=np.float32)
                if arr.size == 1:
                    slots.append(("cst", self.fn.f32_const(arr.item())))
                    continue
                if nhwc:
                    arr = arr.reshape((1,) * (4 - arr.ndim) + arr.shape)
                    arr = np.transpose(arr, NCHW_TO_NHWC)
                elif arr.ndim > rank:  # leading unit dims
                    arr = arr.reshape(arr.shape[arr.ndim - rank:])
                shape = arr.shape
            # Right-align; drop dims broadcast along the output.
            offset = rank - len(shape)
            keep = [i for i, d in enumerate(shape)
                    if not (d == 1 and out_shape[offset + i] != 1)]
            exprs = [f"d{offset + i}" for i in keep]
            if isinstance(o, Value):
                if len(keep) != len(shape):
                    o = self.fn.reshape(o, [shape[i] for i in keep])
            else:
                name = node.input[idx] if idx < len(node.input) else \
                    node.name
                o = self.fn.weight(
                    (name, "ew", nhwc, tuple(shape)), name,
                    arr.reshape([shape[i] for i in keep]))
            slots.append(("in", len(ins)))
            ins.append((o, exprs))

        def scalar_body(b: Body, args: Sequence[str]) -> str:
            scalars = [args[s[1]] if s[0] == "in" else s[1] for s in slots]
            return body(b, scalars)

        out = self.fn.empty(out_shape)
        result = self.fn.generic(ins, out, rank, [], scalar_body, nhwc)
        result.lead = 0 if nhwc else len(out_logical) - rank
        if out_name is not None:
            self.set(out_name, result)
        return result

    def unary(self, node, body: BodyFn) -> None:
        self.elementwise(node, [self.get(node, 0)], body, node.output[0])

    def op_Relu(self, node):
        self.unary(node, lambda b, s: b.op("arith.maximumf", s[0], b.cst(0)))

    def op_Clip(self, node):
        if self.opset < 11:
            a = attrs_of(node)
            lo, hi = a.get("min"), a.get("max")
        else:
            lo = self.const_input(node, 1, "min")
            hi = self.const_input(node, 2, "max")
        if lo is not None and np.size(lo) != 1 or \
                hi is not None and np.size(hi) != 1:
            raise node_error(node, "min/max must be scalars")

        def body(b, s):
            r = s[0]
            if lo is not None:
                r = b.op("arith.maximumf", r, b.cst(float(np.ravel(lo)[0])))
            if hi is not None:
                r = b.op("arith.minimumf", r, b.cst(float(np.ravel(hi)[0])))
            return r
        self.unary(node, body)

    def op_Sigmoid(self, node):
        def body(b, s):
            e = b.op("math.exp", b.op("arith.negf", s[0]))
            return b.op("arith.divf", b.cst(1), b.op("arith.addf", e,
                                                     b.cst(1)))
        self.unary(node, body)

    def op_HardSigmoid(self, node):
        a = self.check_attrs(node, {"alpha": None, "beta": None})
        alpha, beta = a.get("alpha", 0.2), a.get("beta", 0.5)

        def body(b, s):
            r = b.op("arith.addf", b.op("arith.mulf", s[0], b.cst(alpha)),
                     b.cst(beta))
            r = b.op("arith.maximumf", r, b.cst(0))
            return b.op("arith.minimumf", r, b.cst(1))
        self.unary(node, body)

    def op_HardSwish(self, node):
        def body(b, s):
            r = b.op("arith.addf", b.op("arith.mulf", s[0], b.cst(1 / 6)),
                     b.cst(0.5))
            r = b.op("arith.minimumf", b.op("arith.maximumf", r, b.cst(0)),
                     b.cst(1))
            return b.op("arith.mulf", s[0], r)
        self.unary(node, body)

    def op_Reciprocal(self, node):
        self.unary(node, lambda b, s: b.op("arith.divf", b.cst(1), s[0]))

    def binary(self, node, op: str) -> None:
        self.elementwise(node, [self.get(node, 0), self.get(node, 1)],
                         lambda b, s: b.op(op, s[0], s[1]), node.output[0])

    def op_Add(self, node):
        self.binary(node, "arith.addf")

    def op_Sub(self, node):
        self.binary(node, "arith.subf")

    def op_Mul(self, node):
        self.binary(node, "arith.mulf")

    def op_Div(self, node):
        self.binary(node, "arith.divf")

    def op_Max(self, node):
        self.binary(node, "arith.maximumf")

    def op_Min(self, node):
        self.binary(node, "arith.minimumf")

    def op_Pow(self, node):
        e = self.get(node, 1)
        if isinstance(e, np.ndarray) and e.size == 1:
            p = float(e.ravel()[0])
            if p == 2.0:
                self.unary(node, lambda b, s: b.op("arith.mulf", s[0], s[0]))
                return
            if p == 0.5:
                self.unary(node, lambda b, s: b.op("math.sqrt", s[0]))
                return
        self.binary(node, "math.powf")

    def op_Identity(self, node):
        self.set(node.output[0], self.get(node, 0))

    def op_Dropout(self, node):
        if len(node.output) > 1 and node.output[1]:
            raise node_error(node, "unsupported output 'mask'")
        self.set(node.output[0], self.get(node, 0))

    def op_Cast(self, node):
        a = attrs_of(node)
        if a.get("to") != onnx.TensorProto.FLOAT:
            raise node_error(node, f"unsupported attribute to={a.get('to')} "
                             "on a non-constant tensor")
        self.set(node.output[0], self.get(node, 0))

    def op_BatchNormalization(self, node):
        a = self.check_attrs(node, {"epsilon": None, "momentum": None,
                                    "training_mode": lambda v: v == 0,
                                    "spatial": lambda v: v == 1})
        if len(node.output) > 1 and any(node.output[1:]):
            raise node_error(node, "unsupported outputs (training mode)")
        gamma, beta, mean, var = (self.const_input(node, i, n).astype(
            np.float64) for i, n in ((1, "scale"), (2, "bias"), (3, "mean"),
                                     (4, "var")))
        x = self.full_or_nhwc(self.get(node, 0))
        scale = gamma / np.sqrt(var + a.get("epsilon", 1e-5))
        shift = beta - mean * scale
        name = node.name or node.output[0]
        s = self.fn.weight((name, "bn_scale"), name + ".scale",
                           scale.reshape(-1))
        t = self.fn.weight((name, "bn_shift"), name + ".shift",
                           shift.reshape(-1))
        rank = len(x.shape)
        cdim = rank - 1 if x.nhwc else 1
        out = self.fn.empty(x.shape)
        result = self.fn.generic(
            [(x, [f"d{i}" for i in range(rank)]), (s, [f"d{cdim}"]),
             (t, [f"d{cdim}"])], out, rank, [],
            lambda b, v: b.op("arith.addf", b.op("arith.mulf", v[0], v[1]),
                              v[2]), x.nhwc, "bn")
        self.set(node.output[0], result)

    # -- convolution and pooling --------------------------------------------
    def spatial_attrs(self, node, kernel: Sequence[int]):
        """(pads [t, l, b, r], strides, dilations) of a 2-D conv/pool."""
        a = attrs_of(node)
        pad = a.get("auto_pad", b"NOTSET")
        pad = pad.decode() if isinstance(pad, bytes) else pad
        if pad not in ("NOTSET", "VALID"):
            raise node_error(node, f"unsupported attribute auto_pad='{pad}'")
        pads = list(a.get("pads", [0, 0, 0, 0]))
        strides = list(a.get("strides", [1, 1]))
        dil = list(a.get("dilations", [1, 1]))
        if len(kernel) != 2 or len(pads) != 4:
            raise node_error(node, f"unsupported attribute kernel_shape="
                             f"{list(kernel)} (only 2-D)")
        return pads, strides, dil

    def op_Conv(self, node):
        x = self.get(node, 0)
        if not isinstance(x, Value) or len(x.logical_shape) != 4:
            raise node_error(node, "only 2-D convolutions of a non-constant "
                             "NCHW tensor are supported")
        self.check_attrs(node, {"auto_pad": None, "dilations": None,
                                "group": None, "kernel_shape": None,
                                "pads": None, "strides": None})
        if node.output[0] in self.folded:
            w, bias = self.folded[node.output[0]]
            wname = node.input[1]
        else:
            w = self.const_input(node, 1, "weight")
            bias = self.get(node, 2)
            if isinstance(bias, Value):
                raise node_error(node, "unsupported non-constant bias")
            wname = node.input[1]
        w = np.asarray(w, np.float32)
        f, cg, kh, kw = w.shape
        groups = attrs_of(node).get("group", 1)
        pads, strides, dil = self.spatial_attrs(node, (kh, kw))
        x = self.to_nhwc(x)
        n, h, wd, c = x.shape
        if cg * groups != c or f % groups:
            raise node_error(node, f"weight {list(w.shape)} does not match "
                             f"{c} input channels and group={groups}")
        x = self.fn.pad(x, [0, pads[0], pads[1], 0], [0, pads[2], pads[3], 0],
                        0.0)
        oh = (x.shape[1] - dil[0] * (kh - 1) - 1) // strides[0] + 1
        ow = (x.shape[2] - dil[1] * (kw - 1) - 1) // strides[1] + 1
        attrs = (f"dilations = dense<{ints(dil)}> : tensor<2xi64>, "
                 f"strides = dense<{ints(strides)}> : tensor<2xi64>")
        key = (wname, "conv", node.output[0])
        if groups == 1:
            filt = self.fn.weight(key, wname, w.transpose(2, 3, 1, 0))
            init = self.fn.filled((n, oh, ow, f), 0.0)
            y = self.fn.named("linalg.conv_2d_nhwc_hwcf", attrs, [x, filt],
                              init, nhwc=True)
        elif groups == c and f == c:
            filt = self.fn.weight(key, wname, w[:, 0].transpose(1, 2, 0))
            init = self.fn.filled((n, oh, ow, f), 0.0)
            y = self.fn.named("linalg.depthwise_conv_2d_nhwc_hwc", attrs,
                              [x, filt], init, nhwc=True)
        else:
            fg = f // groups
            filt = self.fn.weight(
                key, wname,
                w.reshape(groups, fg, cg, kh, kw).transpose(0, 1, 3, 4, 2))
            xg = self.fn.expand(x, [[0], [1], [2], [3, 4]],
                                (n, x.shape[1], x.shape[2], groups, cg))
            init = self.fn.filled((n, oh, ow, groups, fg), 0.0)
            y = self.fn.named("linalg.conv_2d_nhwgc_gfhwc", attrs,
                              [xg, filt], init)
        if bias is not None:
            # The bias is added in the conv's own layout (G x F/G for a
            # grouped conv), so that it is a direct consumer of the anchor.
            bname = (node.input[2] if len(node.input) > 2 and node.input[2]
                     else wname + ".bias")
            barr = np.asarray(bias, np.float32).reshape(y.shape[3:])
            b = self.fn.weight((bname, "bias", node.output[0]), bname, barr)
            rank = len(y.shape)
            out = self.fn.empty(y.shape)
            y = self.fn.generic(
                [(y, [f"d{i}" for i in range(rank)]),
                 (b, [f"d{i}" for i in range(3, rank)])], out, rank, [],
                lambda bb, s: bb.op("arith.addf", s[0], s[1]), rank == 4,
                "bias")
        if len(y.shape) == 5:
            y = self.fn.collapse(y, [[0], [1], [2], [3, 4]], nhwc=True)
        self.set(node.output[0], y)

    def pool_geometry(self, node, x: Value):
        """Window, pads (low, high incl. ceil-mode extra), strides,
        dilations and output size of MaxPool/AveragePool on NHWC `x`."""
        a = attrs_of(node)
        kernel = list(a["kernel_shape"])
        pads, strides, dil = self.spatial_attrs(node, kernel)
        ceil = a.get("ceil_mode", 0)
        out, high = [], []
        for i, size in enumerate(x.shape[1:3]):
            eff = dil[i] * (kernel[i] - 1) + 1
            span = size + pads[i] + pads[i + 2] - eff
            o = (-(-span // strides[i]) if ceil else span // strides[i]) + 1
            if ceil and (o - 1) * strides[i] >= size + pads[i]:
                o -= 1
            need = (o - 1) * strides[i] + eff
            high.append(max(pads[i + 2], need - size - pads[i]))
            out.append(o)
        return kernel, [pads[0], pads[1]], high, strides, dil, out

    def op_MaxPool(self, node):
        self.check_attrs(node, {"auto_pad": None, "ceil_mode": None,
                                "dilations": None, "kernel_shape": None,
                                "pads": None, "strides": None,
                                "storage_order": lambda v: v == 0})
        if len(node.output) > 1 and node.output[1]:
            raise node_error(node, "unsupported output 'Indices'")
        x = self.to_nhwc(self.get(node, 0))
        kernel, low, high, strides, dil, out = self.pool_geometry(node, x)
        xp = self.fn.pad(x, [0, *low, 0], [0, *high, 0], -math.inf)
        y = self.pool("linalg.pooling_nhwc_max", xp, kernel, strides, dil,
                      out, -math.inf)
        self.set(node.output[0], y)

    def pool(self, op: str, x: Value, kernel, strides, dil, out,
             init: float) -> Value:
        n, c = x.shape[0], x.shape[3]
        fill = self.fn.filled((n, out[0], out[1], c), init)
        window = self.fn.empty(kernel)
        attrs = (f"dilations = dense<{ints(dil)}> : tensor<2xi64>, "
                 f"strides = dense<{ints(strides)}> : tensor<2xi64>")
        return self.fn.named(op, attrs, [x, window], fill, nhwc=True)

    def op_AveragePool(self, node):
        a = self.check_attrs(node, {"auto_pad": None, "ceil_mode": None,
                                    "count_include_pad": None,
                                    "kernel_shape": None, "pads": None,
                                    "strides": None,
                                    "dilations": lambda v: set(v) == {1}})
        x = self.to_nhwc(self.get(node, 0))
        kernel, low, high, strides, dil, out = self.pool_geometry(node, x)
        pads = attrs_of(node).get("pads", [0, 0, 0, 0])
        include = a.get("count_include_pad", 0)
        xp = self.fn.pad(x, [0, *low, 0], [0, *high, 0], 0.0)
        total = self.pool("linalg.pooling_nhwc_sum", xp, kernel, strides,
                          dil, out, 0.0)
        # The divisor of each output position, as PyTorch/ONNX count it:
        # window cells inside the input (plus the explicit padding when
        # count_include_pad), never the extra ceil-mode cells.
        counts = np.zeros(out, np.float64)
        for i in range(out[0]):
            for j in range(out[1]):
                spans = []
                for d, o in ((0, i), (1, j)):
                    lo = o * strides[d]
                    hi = lo + kernel[d]
                    size = x.shape[1 + d]
                    if include:
                        limit = (0, size + pads[d] + pads[d + 2])
                    else:
                        limit = (pads[d], pads[d] + size)
                    spans.append(min(hi, limit[1]) - max(lo, limit[0]))
                counts[i, j] = spans[0] * spans[1]
        if np.all(counts == counts.flat[0]):
            inv = 1.0 / counts.flat[0]
            y = self.elementwise(node, [total],
                                 lambda b, s: b.op("arith.mulf", s[0],
                                                   b.cst(inv)))
        else:
            name = (node.name or node.output[0]) + ".divisor"
            div = self.fn.weight((name,), name, counts.astype(np.float32))
            o = self.fn.empty(total.shape)
            y = self.fn.generic(
                [(total, ["d0", "d1", "d2", "d3"]), (div, ["d1", "d2"])],
                o, 4, [], lambda b, s: b.op("arith.divf", s[0], s[1]), True,
                "avg")
        self.set(node.output[0], y)

    def op_GlobalAveragePool(self, node):
        x = self.to_nhwc(self.get(node, 0))
        n, h, w, c = x.shape
        total = self.pool("linalg.pooling_nhwc_sum", x, [h, w], [1, 1],
                          [1, 1], [1, 1], 0.0)
        self.elementwise(node, [total], lambda b, s: b.op(
            "arith.mulf", s[0], b.cst(1.0 / (h * w))), node.output[0])

    def op_GlobalMaxPool(self, node):
        x = self.to_nhwc(self.get(node, 0))
        n, h, w, c = x.shape
        self.set(node.output[0], self.pool("linalg.pooling_nhwc_max", x,
                                           [h, w], [1, 1], [1, 1], [1, 1],
                                           -math.inf))

    # -- shapes and data movement -------------------------------------------
    def op_Flatten(self, node):
        x = self.get(node, 0)
        axis = attrs_of(node).get("axis", 1)
        lshape = x.logical_shape
        axis = axis + len(lshape) if axis < 0 else axis
        out = (int(np.prod(lshape[:axis])), int(np.prod(lshape[axis:])))
        self.set(node.output[0], self.reshape_to(x, out))

    def op_Reshape(self, node):
        x = self.get(node, 0)
        target = _reshape_target(node, x.logical_shape,
                                 self.const_input(node, 1, "shape"))
        self.set(node.output[0], self.reshape_to(x, target))

    def op_Squeeze(self, node):
        x = self.get(node, 0)
        shape = x.logical_shape
        axes = (attrs_of(node).get("axes") if self.opset < 13 else
                self.const_input(node, 1, "axes"))
        axes = (list(range(len(shape))) if axes is None
                else _norm_axes(axes, len(shape)))
        out = [d for i, d in enumerate(shape)
               if not (i in axes and d == 1)]
        self.set(node.output[0], self.reshape_to(x, out))

    def op_Unsqueeze(self, node):
        x = self.get(node, 0)
        axes = (attrs_of(node).get("axes") if self.opset < 13 else
                self.const_input(node, 1, "axes"))
        out = list(np.expand_dims(np.empty(x.logical_shape, np.int8),
                                  tuple(_norm_axes(axes, len(x.logical_shape) +
                                                   len(axes)))).shape)
        self.set(node.output[0], self.reshape_to(x, out))

    def op_Transpose(self, node):
        x = self.get(node, 0)
        rank = len(x.logical_shape)
        perm = list(attrs_of(node).get("perm", list(range(rank))[::-1]))
        if x.nhwc:
            # logical = physical.transpose(NHWC_TO_NCHW)
            perm = [NHWC_TO_NCHW[p] for p in perm]
            self.set(node.output[0], self.fn.transpose(x, perm))
            return
        if perm[:x.lead] != list(range(x.lead)):
            x = self.full(x)
        y = self.fn.transpose(x, [p - x.lead for p in perm[x.lead:]])
        self.set(node.output[0], self.reshape_to(
            Value(y.name, y.shape, False, x.lead),
            tuple(x.logical_shape[p] for p in perm)))

    def layout_axis(self, x: Value, axis: int) -> int:
        axis = axis + len(x.shape) if axis < 0 else axis
        return LOGICAL_TO_PHYSICAL[axis] if x.nhwc else axis

    def op_Concat(self, node):
        axis = attrs_of(node)["axis"]
        parts = [self.get(node, i) if isinstance(self.get(node, i), Value)
                 else self.as_value(node, i) for i in range(len(node.input))]
        rank = len(parts[0].logical_shape)
        nhwc = rank == 4 and any(p.nhwc for p in parts)
        parts = [self.to_nhwc(p) if nhwc else self.full(p) for p in parts]
        axis = axis + rank if axis < 0 else axis
        paxis = LOGICAL_TO_PHYSICAL[axis] if nhwc else axis
        shape = list(parts[0].shape)
        shape[paxis] = sum(p.shape[paxis] for p in parts)
        acc = self.fn.empty(shape)
        acc = Value(acc.name, acc.shape, nhwc)
        offset = 0
        for p in parts:
            offsets = [0] * rank
            offsets[paxis] = offset
            acc = self.fn.insert_slice(p, acc, offsets)
            offset += p.shape[paxis]
        self.set_canonical(node.output[0], acc)

    def op_Split(self, node):
        x = self.full_or_nhwc(self.get(node, 0))
        a = attrs_of(node)
        axis = a.get("axis", 0)
        lshape = x.logical_shape
        laxis = axis + len(lshape) if axis < 0 else axis
        if self.opset >= 13 and len(node.input) > 1 and node.input[1]:
            sizes = [int(s) for s in self.const_input(node, 1, "split")]
        elif "split" in a:
            sizes = list(a["split"])
        else:
            parts = len(node.output)
            sizes = [-(-lshape[laxis] // parts)] * parts
            sizes[-1] = lshape[laxis] - sum(sizes[:-1])
        paxis = self.layout_axis(x, laxis)
        offset = 0
        for name, size in zip(node.output, sizes):
            offsets = [0] * len(x.shape)
            offsets[paxis] = offset
            sizes_ = list(x.shape)
            sizes_[paxis] = size
            self.set_canonical(name, self.fn.extract_slice(x, offsets, sizes_,
                                                 [1] * len(x.shape)))
            offset += size

    def op_Slice(self, node):
        x = self.full_or_nhwc(self.get(node, 0))
        starts = self.const_input(node, 1, "starts")
        ends = self.const_input(node, 2, "ends")
        axes = self.const_input(node, 3, "axes") if len(node.input) > 3 \
            else None
        steps = self.const_input(node, 4, "steps") if len(node.input) > 4 \
            else None
        params = _slice_params(node, x.logical_shape, starts, ends, axes,
                               steps)
        offsets, sizes, strides = ([0] * len(x.shape) for _ in range(3))
        for laxis, (s, e, st) in params.items():
            p = self.layout_axis(x, laxis)
            offsets[p], sizes[p], strides[p] = s, -(-(e - s) // st), st
        self.set_canonical(node.output[0], self.fn.extract_slice(x, offsets, sizes,
                                                       strides))

    def op_Gather(self, node):
        x = self.get(node, 0)
        idx = self.const_input(node, 1, "indices")
        axis = attrs_of(node).get("axis", 0)
        shape = x.logical_shape
        axis = axis + len(shape) if axis < 0 else axis
        x = self.full(x)
        flat = np.asarray(idx).ravel() % shape[axis]
        if flat.size and np.all(np.diff(flat) == 1) or flat.size == 1:
            offsets = [0] * len(shape)
            offsets[axis] = int(flat[0])
            sizes = list(shape)
            sizes[axis] = flat.size
            result = list(shape[:axis]) + list(np.shape(idx)) + \
                list(shape[axis + 1:])
            if np.ndim(idx) == 0:
                # A rank-reducing slice drops the gathered dim.
                y = self.fn.extract_slice(x, offsets, sizes,
                                          [1] * len(shape), result)
            else:
                y = self.fn.reshape(self.fn.extract_slice(
                    x, offsets, sizes, [1] * len(shape)), result)
            self.set_canonical(node.output[0], y)
            return
        raise node_error(node, "unsupported attribute indices (only a "
                         "constant scalar or contiguous range)")

    def op_Pad(self, node):
        self.check_attrs(node, {"mode": lambda v: v in (b"constant",
                                                         "constant")})
        x = self.full_or_nhwc(self.get(node, 0))
        pads = self.const_input(node, 1, "pads")
        value = self.const_input(node, 2, "constant_value") if \
            len(node.input) > 2 and node.input[2] else np.zeros(1)
        rank = len(x.shape)
        if len(node.input) > 3 and node.input[3]:
            raise node_error(node, "unsupported input 'axes'")
        low, high = [0] * rank, [0] * rank
        for laxis in range(rank):
            p = self.layout_axis(x, laxis)
            low[p], high[p] = int(pads[laxis]), int(pads[laxis + rank])
        if min(low + high) < 0:
            raise node_error(node, f"unsupported attribute pads="
                             f"{list(pads)} (negative)")
        self.set_canonical(node.output[0], self.fn.pad(x, low, high,
                                             float(np.ravel(value)[0])))

    # -- contractions -------------------------------------------------------
    def matmul(self, a: Value, b: Value) -> Value:
        """numpy-style matmul of plain values (B may be 2-D while A has
        leading batch dims; otherwise the batch dims must agree)."""
        if len(a.shape) < 2 or len(b.shape) < 2:
            raise OnnxImportError("1-D MatMul operands are not supported")
        m, k = a.shape[-2:]
        k2, n = b.shape[-2:]
        if k != k2:
            raise OnnxImportError(f"MatMul shapes {a.shape} x {b.shape}")
        batch = a.shape[:-2]
        if len(b.shape) == 2:
            a2 = self.fn.reshape(a, (int(np.prod(batch)) * m, k))
            init = self.fn.filled((a2.shape[0], n), 0.0)
            y = self.fn.named("linalg.matmul", "", [a2, b], init)
            return self.fn.reshape(y, batch + (m, n))
        if a.shape[:-2] != b.shape[:-2]:
            raise OnnxImportError(f"broadcasting MatMul {a.shape} x "
                                  f"{b.shape} is not supported")
        nb = int(np.prod(batch))
        a3 = self.fn.reshape(a, (nb, m, k))
        b3 = self.fn.reshape(b, (nb, k, n))
        init = self.fn.filled((nb, m, n), 0.0)
        y = self.fn.named("linalg.batch_matmul", "", [a3, b3], init)
        return self.fn.reshape(y, batch + (m, n))

    def op_MatMul(self, node):
        a = self.plain(self.as_value(node, 0))
        b = self.plain(self.as_value(node, 1))
        la, lb = a.logical_shape, b.logical_shape
        if len(la) < 2 or len(lb) < 2:
            raise node_error(node, "1-D MatMul operands are not supported")
        try:
            batch = tuple(np.broadcast_shapes(la[:-2], lb[:-2]))
        except ValueError:
            raise node_error(node, f"MatMul shapes {la} x {lb} do not "
                             "broadcast") from None
        m, k = la[-2:]
        n = lb[-1]
        if lb[-2] != k:
            raise node_error(node, f"MatMul shapes {la} x {lb}")
        out = batch + (m, n)
        nb = int(np.prod(batch, dtype=np.int64))
        if int(np.prod(lb[:-2], dtype=np.int64)) == 1:
            # A (batched) matrix times a matrix: one linalg.matmul.
            a2 = self.fn.reshape(a, (nb * m, k))
            b2 = self.fn.reshape(b, (k, n))
            init = self.fn.filled((nb * m, n), 0.0)
            y = self.fn.named("linalg.matmul", "", [a2, b2], init)
        elif canonical_shape((1, 1) + la[:-2]) == \
                canonical_shape((1, 1) + lb[:-2]):
            a3 = self.fn.reshape(a, (nb, m, k))
            b3 = self.fn.reshape(b, (nb, k, n))
            init = self.fn.filled((nb, m, n), 0.0)
            y = self.fn.named("linalg.batch_matmul", "", [a3, b3], init)
        else:
            raise node_error(node, f"broadcasting MatMul {la} x {lb} is "
                             "not supported")
        self.set(node.output[0], self.reshape_to(y, out))

    def op_Gemm(self, node):
        at = self.check_attrs(node, {"alpha": None, "beta": None,
                                     "transA": None, "transB": None})
        alpha, beta = at.get("alpha", 1.0), at.get("beta", 1.0)
        a = self.full(self.as_value(node, 0))
        if at.get("transA", 0):
            a = self.fn.transpose(a, [1, 0])
        b = self.get(node, 1)
        if isinstance(b, np.ndarray):
            arr = b.T if at.get("transB", 0) else b
            b = self.fn.weight((node.input[1], "gemm", bool(at.get("transB"))),
                               node.input[1], arr)
        else:
            b = self.full(b)
            if at.get("transB", 0):
                b = self.fn.transpose(b, [1, 0])
        y = self.matmul(a, b)
        if alpha != 1.0:
            y = self.elementwise(node, [y], lambda bb, s: bb.op(
                "arith.mulf", s[0], bb.cst(alpha)))
        c = self.get(node, 2)
        if c is not None:
            if isinstance(c, np.ndarray):
                c = c * np.float32(beta)
            elif beta != 1.0:
                raise node_error(node, f"unsupported attribute beta={beta} "
                                 "with a non-constant C")
            y = self.elementwise(node, [y, c], lambda bb, s: bb.op(
                "arith.addf", s[0], s[1]))
        self.set(node.output[0], y)

    # -- reductions ---------------------------------------------------------
    def reduce(self, x: Value, axes: Sequence[int], init: float,
               combine: Callable[[Body, str, str], str],
               hint: str) -> Value:
        """Reduces the physical `axes` of `x` (rank-reduced result)."""
        rank = len(x.shape)
        out_shape = [d for i, d in enumerate(x.shape) if i not in axes]
        fill = self.fn.filled(out_shape, init)
        return self.fn.generic(
            [(x, [f"d{i}" for i in range(rank)])], fill, rank, list(axes),
            lambda b, s: combine(b, s[0], s[1]), False, hint)

    def reduce_node(self, node, init: float, combine, mean: bool) -> None:
        a = self.check_attrs(node, {"axes": None, "keepdims": None,
                                    "noop_with_empty_axes":
                                    lambda v: v == 0})
        x = self.full_or_nhwc(self.get(node, 0))
        axes = a.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self.const_input(node, 1, "axes")
        lrank = len(x.shape)
        axes = list(range(lrank)) if axes is None else _norm_axes(axes, lrank)
        keep = a.get("keepdims", 1)
        if x.nhwc and not keep:
            remaining = [i for i in range(4) if i not in axes]
            if 1 in remaining and (2 in remaining or 3 in remaining):
                x = self.plain(x)
        paxes = sorted(self.layout_axis(x, ax) for ax in axes)
        y = self.reduce(x, paxes, init, combine, "red")
        if mean:
            count = int(np.prod([x.shape[i] for i in paxes]))
            y = self.elementwise(node, [y], lambda b, s: b.op(
                "arith.mulf", s[0], b.cst(1.0 / count)))
        if keep:
            shape = [1 if i in paxes else d for i, d in enumerate(x.shape)]
            y = self.fn.reshape(y, shape)
            y = Value(y.name, y.shape, x.nhwc)
        self.set_canonical(node.output[0], y)

    def op_ReduceMean(self, node):
        self.reduce_node(node, 0.0,
                         lambda b, v, acc: b.op("arith.addf", v, acc), True)

    def op_ReduceSum(self, node):
        self.reduce_node(node, 0.0,
                         lambda b, v, acc: b.op("arith.addf", v, acc), False)

    def op_ReduceMax(self, node):
        self.reduce_node(node, -math.inf,
                         lambda b, v, acc: b.op("arith.maximumf", v, acc),
                         False)

    def op_Softmax(self, node):
        a = self.check_attrs(node, {"axis": None})
        x = self.plain(self.get(node, 0))
        lrank = len(x.logical_shape)
        rank = len(x.shape)
        axis = a.get("axis", -1 if self.opset >= 13 else 1)
        axis = axis + lrank if axis < 0 else axis
        if axis != lrank - 1:
            raise node_error(node, f"unsupported attribute axis={axis} "
                             "(only the last axis)")
        all_dims = [f"d{i}" for i in range(rank)]
        rows = all_dims[:-1]
        mx = self.reduce(x, [rank - 1], -math.inf,
                         lambda b, v, acc: b.op("arith.maximumf", v, acc),
                         "max")
        fill = self.fn.filled(mx.shape, 0.0)
        total = self.fn.generic(
            [(x, all_dims), (mx, rows)], fill, rank, [rank - 1],
            lambda b, s: b.op("arith.addf", b.op("math.exp", b.op(
                "arith.subf", s[0], s[1])), s[2]), False, "sumexp")
        out = self.fn.empty(x.shape)
        y = self.fn.generic(
            [(x, all_dims), (mx, rows), (total, rows)], out, rank, [],
            lambda b, s: b.op("arith.divf", b.op("math.exp", b.op(
                "arith.subf", s[0], s[1])), s[2]), False, "softmax")
        y.lead = x.lead
        self.set(node.output[0], y)

    def op_LayerNormalization(self, node):
        a = self.check_attrs(node, {"axis": None, "epsilon": None,
                                    "stash_type": None})
        if len(node.output) > 1 and any(node.output[1:]):
            raise node_error(node, "unsupported outputs Mean/InvStdDev")
        x = self.plain(self.get(node, 0))
        lrank = len(x.logical_shape)
        axis = a.get("axis", -1)
        axis = axis + lrank if axis < 0 else axis
        if axis < x.lead:
            x = self.full(x)
        axis -= x.lead
        rank = len(x.shape)
        eps = a.get("epsilon", 1e-5)
        red = list(range(axis, rank))
        n = int(np.prod(x.shape[axis:]))
        all_dims = [f"d{i}" for i in range(rank)]
        rows = all_dims[:axis]
        total = self.reduce(x, red, 0.0,
                            lambda b, v, acc: b.op("arith.addf", v, acc),
                            "sum")
        mean = self.fn.generic([(total, rows)], self.fn.empty(total.shape),
                               axis, [], lambda b, s: b.op(
                                   "arith.mulf", s[0], b.cst(1.0 / n)),
                               False, "mean")
        fill = self.fn.filled(mean.shape, 0.0)

        def sq(b, s):
            d = b.op("arith.subf", s[0], s[1])
            return b.op("arith.addf", b.op("arith.mulf", d, d), s[2])
        var = self.fn.generic([(x, all_dims), (mean, rows)], fill, rank,
                              red, sq, False, "var")
        ins = [(x, all_dims), (mean, rows), (var, rows)]
        gamma = self.get(node, 1)
        beta = self.get(node, 2)
        norm_dims = all_dims[axis:]
        for i, p in ((1, gamma), (2, beta)):
            if p is not None:
                ins.append((self.as_value(node, i), norm_dims))

        def body(b, s):
            d = b.op("arith.subf", s[0], s[1])
            v = b.op("arith.addf", b.op("arith.mulf", s[2], b.cst(1.0 / n)),
                     b.cst(eps))
            y = b.op("arith.mulf", d, b.op("math.rsqrt", v))
            k = 3
            if gamma is not None:
                y = b.op("arith.mulf", y, s[k])
                k += 1
            if beta is not None:
                y = b.op("arith.addf", y, s[k])
            return y
        y = self.fn.generic(ins, self.fn.empty(x.shape), rank, [], body,
                            False, "ln")
        y.lead = x.lead
        self.set(node.output[0], y)

    # -- output -------------------------------------------------------------
    def render(self, header: Sequence[str]) -> str:
        fn = self.fn
        args = [f"{v.name}: {v.type}" for v in self.inputs]
        args += [f"{w.value.name}: {w.value.type} "
                 f"{{tcl.name = {_mlir_string(w.name)}}}"
                 for w in fn.weights]
        results = ", ".join(v.type for v in self.outputs)
        lines = list(header)
        lines.append("func.func @forward(" + ",\n    ".join(args) +
                     f") -> ({results}) {{")
        for literal, name in fn.consts.items():
            lines.append(f"  {name} = arith.constant {literal} : f32")
        lines += fn.lines
        lines.append("  return " + ", ".join(v.name for v in self.outputs) +
                     " : " + results)
        lines.append("}")
        return "\n".join(lines) + "\n"

# ONNX ops that are one unary MLIR op on each element.
UNARY_OPS = {"Tanh": "math.tanh", "Erf": "math.erf", "Sqrt": "math.sqrt",
             "Exp": "math.exp", "Log": "math.log", "Abs": "math.absf",
             "Neg": "arith.negf"}


def _unary_handler(mlir_op: str):
    def handler(self: Importer, node) -> None:
        self.unary(node, lambda b, s: b.op(mlir_op, s[0]))
    handler.__doc__ = f"Elementwise {mlir_op}."
    return handler


for _onnx_op, _mlir_op in UNARY_OPS.items():
    setattr(Importer, "op_" + _onnx_op, _unary_handler(_mlir_op))


def _show(value) -> str:
    if isinstance(value, bytes):
        return repr(value.decode(errors="replace"))
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _mlir_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load_model(path: str):
    """Loads and checks an ONNX file; raises OnnxImportError when it cannot
    be read."""
    if onnx is None:
        raise OnnxImportError("python3-onnx is not installed")
    try:
        model = onnx.load(path)
    except FileNotFoundError:
        raise OnnxImportError(f"{path}: no such file") from None
    except Exception as err:  # protobuf DecodeError and friends
        raise OnnxImportError(f"{path}: not a readable ONNX model "
                              f"(truncated or corrupt?): "
                              f"{type(err).__name__}: {err}") from None
    if not model.graph.node:
        raise OnnxImportError(f"{path}: the ONNX graph has no nodes "
                              "(truncated or corrupt?)")
    return model


def import_model(model, header: Sequence[str] = ()) -> tuple[str, dict,
                                                             Summary]:
    """Translates `model`; returns (MLIR text, npz arrays, summary)."""
    imp = Importer(model)
    imp.run()
    text = imp.render(header)
    n_in = len(imp.inputs)
    arrays = {f"arg{n_in + i}": w.array for i, w in enumerate(imp.fn.weights)}
    summary = Summary(
        nodes=len(model.graph.node), ops=imp.fn.ops,
        weights=len(imp.fn.weights),
        weight_bytes=sum(w.array.nbytes for w in imp.fn.weights),
        inputs=[v.type for v in imp.inputs],
        outputs=[v.type for v in imp.outputs])
    return text, arrays, summary


def _atomic_writer(path: str, suffix: str):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    return fd, tmp


def import_file(onnx_path: str, mlir_path: str, npz_path: str | None,
                command: str | None = None) -> Summary:
    """Imports `onnx_path` and writes `mlir_path` (and `npz_path`);
    both files appear only when everything succeeded."""
    model = load_model(onnx_path)
    header = [
        f"// Imported from {os.path.basename(onnx_path)} by "
        "python/tcl/onnx_import.py.",
        f"// Generated by: {command or 'PYTHONPATH=python /usr/bin/python3 -m tcl.onnx_import'}",
        "// Arguments: the graph inputs, then the weights (tcl.name = ONNX "
        "name);",
        "// the weight values are in the .npz written alongside (argN = "
        "argument N).",
        "",
    ]
    text, arrays, summary = import_model(model, header)
    tmps = []
    try:
        fd, tmp = _atomic_writer(mlir_path, ".mlir")
        tmps.append((tmp, mlir_path))
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if npz_path:
            fd, tmp = _atomic_writer(npz_path, ".npz")
            tmps.append((tmp, npz_path))
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
        for tmp, final in tmps:
            os.chmod(tmp, 0o644)
            os.replace(tmp, final)
        tmps = []
    finally:
        for tmp, _ in tmps:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m tcl.onnx_import",
        description="Import an ONNX model (static shapes, f32) as one "
        "Linalg-on-tensors func.func @forward; weights become arguments and "
        "their values go to a .npz.")
    parser.add_argument("model", help="input .onnx file")
    parser.add_argument("-o", "--output", required=True,
                        help="output .mlir file")
    parser.add_argument("--weights",
                        help="output .npz file (default: the output with "
                        ".npz instead of .mlir)")
    parser.add_argument("--no-weights", action="store_true",
                        help="do not write the .npz")
    parser.add_argument("--quiet", action="store_true",
                        help="do not print the summary to stderr")
    args = parser.parse_args(argv)
    weights = None if args.no_weights else (
        args.weights or os.path.splitext(args.output)[0] + ".npz")
    try:
        summary = import_file(args.model, args.output, weights)
    except OnnxImportError as err:
        print(f"onnx_import: {err}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"onnx_import: {args.model}: {summary.text()}",
              file=sys.stderr)
        print(f"onnx_import: inputs {', '.join(summary.inputs)}; outputs "
              f"{', '.join(summary.outputs)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
