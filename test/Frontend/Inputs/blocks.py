"""Tiny PyTorch blocks for the importer's tests.

    blocks.py export NAME OUT.onnx   export one block (seeded weights)
    blocks.py check [NAME ...]       import each block, run it with stock
                                     MLIR (mlir-runner) and compare with
                                     PyTorch eager; prints one line per
                                     block and exits 1 on a mismatch

Run with PYTHONPATH=<repo>/python and /usr/bin/python3 (lit: %python).
"""

from __future__ import annotations

import os
import sys
import tempfile

import torch
from torch import nn

from tcl import check_model, export

TOLERANCE = 1e-4


def _randomize_bn(bn: nn.BatchNorm2d) -> nn.BatchNorm2d:
    """Non-trivial running statistics, so that folding is visible."""
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    bn.weight.data.uniform_(0.5, 2)
    bn.bias.data.uniform_(-1, 1)
    return bn


class ConvBnRelu(nn.Module):
    """conv 3x3/2 (with bias) + BatchNorm + ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.bn = _randomize_bn(nn.BatchNorm2d(16))

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Separable(nn.Module):
    """Depthwise 3x3 + ReLU6, grouped 1x1 (4 groups), hardswish, SE-style
    gate (global average pool, 1x1 convs, hardsigmoid) and a residual."""

    def __init__(self) -> None:
        super().__init__()
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.bn = _randomize_bn(nn.BatchNorm2d(16))
        self.gc = nn.Conv2d(16, 16, 1, groups=4)
        self.se1 = nn.Conv2d(16, 4, 1)
        self.se2 = nn.Conv2d(4, 16, 1)

    def forward(self, x):
        y = nn.functional.relu6(self.bn(self.dw(x)))
        y = nn.functional.hardswish(self.gc(y))
        s = nn.functional.adaptive_avg_pool2d(y, 1)
        s = nn.functional.hardsigmoid(self.se2(torch.relu(self.se1(s))))
        return x + y * s


class Pools(nn.Module):
    """Ceil-mode max pooling, average pooling without padding in the
    divisor, a BN that cannot fold (after a concat), channel split, channel
    shuffle and a flatten of an NCHW tensor with H, W > 1 into a Gemm."""

    def __init__(self) -> None:
        super().__init__()
        self.bn = _randomize_bn(nn.BatchNorm2d(16))
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        a = nn.functional.max_pool2d(x, 3, 2, padding=1, ceil_mode=True)
        b = nn.functional.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True,
                                     count_include_pad=False)
        y = self.bn(torch.cat([a, b], dim=1))
        y = y.reshape(1, 2, 8, 7, 7).transpose(1, 2).reshape(1, 16, 7, 7)
        p, q = y.chunk(2, dim=1)
        z = torch.sigmoid(p) * torch.tanh(q)
        return self.fc(torch.flatten(z[:, :, 1:5, 1:5], 1))


def attention():
    """One BERT layer (hidden 32, 2 heads, FFN 64) on 1x16x32."""
    return export.bert_encoder(export.BertConfig(layers=1, hidden=32,
                                                 heads=2, ffn=64))


BLOCKS = {
    "conv-bn-relu": (ConvBnRelu, (1, 8, 16, 16)),
    "separable": (Separable, (1, 16, 10, 10)),
    "pools": (Pools, (1, 8, 12, 12)),
    "attention": (attention, (1, 16, 32)),
}


def build(name: str):
    factory, shape = BLOCKS[name]
    torch.manual_seed(0)
    module = factory().eval()
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    return module, x


def export_block(name: str, path: str) -> None:
    """Exports with TrainingMode.PRESERVE so that BatchNormalization stays
    in the graph (in EVAL mode PyTorch folds it itself) and the importer's
    folding is what the tests see."""
    module, x = build(name)
    with torch.no_grad():
        torch.onnx.export(module, (x,), path, opset_version=export.OPSET,
                          do_constant_folding=True,
                          training=torch.onnx.TrainingMode.PRESERVE)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "export":
        export_block(argv[1], argv[2])
        return 0
    if argv and argv[0] == "check":
        failed = 0
        for name in argv[1:] or list(BLOCKS):
            module, x = build(name)
            with tempfile.TemporaryDirectory() as work:
                onnx_path = os.path.join(work, "block.onnx")
                export_block(name, onnx_path)
                abs_err, rel_err = check_model.check_module(
                    module, x, work, backend="mlir-runner",
                    onnx_path=onnx_path)
            ok = rel_err <= TOLERANCE
            failed += not ok
            print(f"{name}: max abs error {abs_err:.2e}, relative "
                  f"{rel_err:.2e}: {'OK' if ok else 'FAIL'}")
        return 1 if failed else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
