"""Write the distinct conv/matmul layers of ResNet-50 and BERT-base as MLIR.

The output is Linalg on tensors (f32, batch 1), one ``func.func`` per distinct
layer, written the way a front end emits it: ``tensor.empty`` + ``linalg.fill``
+ the named op, then its elementwise consumers as separate ``linalg.generic``
ops (``tcl-opt --tcl-extract-tasks`` fuses them into the anchor's task). Each
function carries ``tcl.weight = <count> : i64``, the number of times that exact
layer occurs in its network, which the task scheduler uses as the task weight.

Usage::

    PYTHONPATH=python /usr/bin/python3 -m tcl.layers \\
        -o examples/resnet50_bert_layers.mlir

FLOPs follow ``tcl::countFlops``: loop iterations times the arithmetic ops in
the body (a multiply-accumulate is 2, a max or an add is 1, ``math.tanh`` is
1), so the totals printed here are comparable with
``tcl-opt --tcl-extract-tasks=report=true``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from math import prod
from typing import Sequence, TextIO

NEG_INF = "0xFF800000"  # -inf as an f32 bit pattern, the identity of max.


def tensor(shape: Sequence[int]) -> str:
    """The MLIR tensor type of an f32 tensor of `shape`."""
    return "tensor<" + "x".join(str(d) for d in shape) + "xf32>"


def affine_map(rank: int, results: Sequence[int]) -> str:
    """An affine map over `rank` dims that selects the dims in `results`."""
    dims = ", ".join(f"d{i}" for i in range(rank))
    res = ", ".join(f"d{i}" for i in results)
    return f"affine_map<({dims}) -> ({res})>"


@dataclass
class Operand:
    """An SSA value with its tensor shape."""

    name: str
    shape: tuple[int, ...]

    @property
    def type(self) -> str:
        return tensor(self.shape)


@dataclass
class FuncBuilder:
    """Accumulates the body of one function and its FLOP count."""

    lines: list[str] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)
    flops: int = 0
    anchor_flops: int = 0
    contraction_flops: int = 0
    _next: int = 0

    def fresh(self, hint: str) -> str:
        self._next += 1
        return f"%{hint}{self._next}"

    def const(self, name: str, literal: str) -> str:
        """An f32 `arith.constant` hoisted to the top of the function."""
        self.constants.setdefault(name, literal)
        return f"%{name}"

    def emit(self, line: str) -> None:
        self.lines.append("  " + line)

    def empty(self, shape: Sequence[int]) -> Operand:
        value = Operand(self.fresh("e"), tuple(shape))
        self.emit(f"{value.name} = tensor.empty() : {value.type}")
        return value

    def filled(self, shape: Sequence[int], init: str) -> Operand:
        """`tensor.empty` + `linalg.fill` with the constant `init`."""
        empty = self.empty(shape)
        value = Operand(self.fresh("fill"), tuple(shape))
        self.emit(f"{value.name} = linalg.fill ins({init} : f32) "
                  f"outs({empty.name} : {empty.type}) -> {value.type}")
        return value

    def named(self, op: str, attrs: str, ins: Sequence[Operand],
              init: Operand, flops: int) -> Operand:
        """A named Linalg op (matmul, conv, pooling) accumulating into `init`."""
        value = Operand(self.fresh(op.split(".")[-1].split("_")[0]),
                        init.shape)
        names = ", ".join(o.name for o in ins)
        types = ", ".join(o.type for o in ins)
        attr_text = f" {{{attrs}}}" if attrs else ""
        self.emit(f"{value.name} = {op}{attr_text} ins({names} : {types}) "
                  f"outs({init.name} : {init.type}) -> {value.type}")
        self.flops += flops
        self.anchor_flops += flops
        if "pooling" not in op:
            self.contraction_flops += flops
        return value

    def generic(self, ins: Sequence[tuple[Operand, Sequence[int]]],
                out: Operand, rank: int, reduction_dims: Sequence[int],
                body: Sequence[str], result: str, body_ops: int,
                hint: str) -> Operand:
        """A `linalg.generic` over `rank` loops.

        `ins` pairs each input with the loop dims it reads; the output reads
        the parallel loops. `body` uses `%in0`, `%in1`, ... and `%acc` (the
        output element) and yields `result`; it has `body_ops` arithmetic ops.
        """
        out_dims = [d for d in range(rank) if d not in reduction_dims]
        maps = [affine_map(rank, dims) for _, dims in ins]
        maps.append(affine_map(rank, out_dims))
        iterators = ", ".join(
            '"reduction"' if d in reduction_dims else '"parallel"'
            for d in range(rank))
        value = Operand(self.fresh(hint), out.shape)
        names = ", ".join(o.name for o, _ in ins)
        types = ", ".join(o.type for o, _ in ins)
        args = ", ".join([f"%in{i}: f32" for i in range(len(ins))] +
                         ["%acc: f32"])
        self.emit(f"{value.name} = linalg.generic {{indexing_maps = "
                  f"[{', '.join(maps)}], iterator_types = [{iterators}]}} "
                  f"ins({names} : {types}) outs({out.name} : {out.type}) {{")
        self.emit(f"^bb0({args}):")
        for line in body:
            self.emit("  " + line)
        self.emit(f"  linalg.yield {result} : f32")
        self.emit(f"}} -> {value.type}")
        iterations = prod(out.shape) * prod(
            ins[0][0].shape[ins[0][1].index(d)] for d in reduction_dims)
        flops = iterations * body_ops
        self.flops += flops
        if reduction_dims:
            self.anchor_flops += flops
        return value

    def elementwise(self, ins: Sequence[tuple[Operand, Sequence[int]]],
                    shape: Sequence[int], body: Sequence[str], result: str,
                    body_ops: int, hint: str) -> Operand:
        """An all-parallel `linalg.generic` writing a fresh `tensor.empty`."""
        out = self.empty(shape)
        return self.generic(ins, out, len(shape), [], body, result, body_ops,
                            hint)

    def bias_add(self, x: Operand, bias: Operand) -> Operand:
        """Adds a per-channel bias (broadcast along the last dim)."""
        rank = len(x.shape)
        return self.elementwise(
            [(x, range(rank)), (bias, [rank - 1])], x.shape,
            ["%0 = arith.addf %in0, %in1 : f32"], "%0", 1, "bias")

    def relu(self, x: Operand) -> Operand:
        zero = self.const("zero", "0.0")
        return self.elementwise(
            [(x, range(len(x.shape)))], x.shape,
            [f"%0 = arith.maximumf %in0, {zero} : f32"], "%0", 1, "relu")

    def gelu(self, x: Operand) -> Operand:
        """GELU, tanh approximation:
        0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
        half = self.const("half", "0.5")
        one = self.const("one", "1.0")
        coeff = self.const("gelu_coeff", "0.044715")
        scale = self.const("sqrt_2_over_pi", "0.797884583")
        body = [
            "%0 = arith.mulf %in0, %in0 : f32",
            "%1 = arith.mulf %0, %in0 : f32",
            f"%2 = arith.mulf %1, {coeff} : f32",
            "%3 = arith.addf %in0, %2 : f32",
            f"%4 = arith.mulf %3, {scale} : f32",
            "%5 = math.tanh %4 : f32",
            f"%6 = arith.addf %5, {one} : f32",
            "%7 = arith.mulf %in0, %6 : f32",
            f"%8 = arith.mulf %7, {half} : f32",
        ]
        return self.elementwise([(x, range(len(x.shape)))], x.shape, body,
                                "%8", len(body), "gelu")

    def scale(self, x: Operand, name: str, literal: str) -> Operand:
        factor = self.const(name, literal)
        return self.elementwise(
            [(x, range(len(x.shape)))], x.shape,
            [f"%0 = arith.mulf %in0, {factor} : f32"], "%0", 1, "scale")


@dataclass
class Layer:
    """One distinct layer: its function and how often it occurs."""

    name: str
    network: str
    count: int
    where: str
    args: list[Operand]
    result: Operand
    builder: FuncBuilder

    def render(self) -> str:
        b = self.builder
        mflop = b.flops / 1e6
        header = [
            f"// {self.name}: {self.where}",
            f"// occurrences in {self.network}: {self.count}; "
            f"{mflop:.2f} MFLOP per instance, "
            f"{mflop * self.count:.2f} MFLOP weighted",
        ]
        args = ", ".join(f"{a.name}: {a.type}" for a in self.args)
        lines = header + [
            f"func.func @{self.name}({args}) -> {self.result.type} "
            f"attributes {{tcl.network = \"{self.network}\", "
            f"tcl.weight = {self.count} : i64}} {{"
        ]
        for name, literal in b.constants.items():
            lines.append(f"  %{name} = arith.constant {literal} : f32")
        lines += b.lines
        lines.append(f"  return {self.result.name} : {self.result.type}")
        lines.append("}")
        return "\n".join(lines)


def conv2d(network: str, name: str, count: int, where: str, size: int,
           in_ch: int, out_ch: int, kernel: int, stride: int) -> Layer:
    """An NHWC/HWCF conv (+ folded-BN bias + ReLU) on an already padded
    input; `size` is the unpadded input height and width."""
    pad = (kernel - 1) // 2
    padded = size + 2 * pad
    out = (padded - kernel) // stride + 1
    b = FuncBuilder()
    x = Operand("%input", (1, padded, padded, in_ch))
    w = Operand("%filter", (kernel, kernel, in_ch, out_ch))
    bias = Operand("%bias", (out_ch,))
    init = b.filled((1, out, out, out_ch), b.const("zero", "0.0"))
    attrs = (f"dilations = dense<1> : tensor<2xi64>, "
             f"strides = dense<{stride}> : tensor<2xi64>")
    conv = b.named("linalg.conv_2d_nhwc_hwcf", attrs, [x, w], init,
                   2 * prod(init.shape) * kernel * kernel * in_ch)
    y = b.relu(b.bias_add(conv, bias))
    return Layer(name, network, count, where, [x, w, bias], y, b)


def max_pool(network: str, name: str, count: int, where: str, size: int,
             channels: int, window: int, stride: int) -> Layer:
    pad = (window - 1) // 2
    padded = size + 2 * pad
    out = (padded - window) // stride + 1
    b = FuncBuilder()
    x = Operand("%input", (1, padded, padded, channels))
    init = b.filled((1, out, out, channels), b.const("neg_inf", NEG_INF))
    win = b.empty((window, window))
    attrs = (f"dilations = dense<1> : tensor<2xi64>, "
             f"strides = dense<{stride}> : tensor<2xi64>")
    y = b.named("linalg.pooling_nhwc_max", attrs, [x, win], init,
                prod(init.shape) * window * window)
    return Layer(name, network, count, where, [x], y, b)


def global_avg_pool(network: str, name: str, count: int, where: str,
                    size: int, channels: int) -> Layer:
    b = FuncBuilder()
    x = Operand("%input", (1, size, size, channels))
    init = b.filled((1, 1, 1, channels), b.const("zero", "0.0"))
    win = b.empty((size, size))
    attrs = ("dilations = dense<1> : tensor<2xi64>, "
             "strides = dense<1> : tensor<2xi64>")
    total = b.named("linalg.pooling_nhwc_sum", attrs, [x, win], init,
                    prod(init.shape) * size * size)
    y = b.scale(total, "inv_area", repr(1.0 / (size * size)))
    return Layer(name, network, count, where, [x], y, b)


def dense(network: str, name: str, count: int, where: str, m: int, k: int,
          n: int, activation: str | None = None) -> Layer:
    """`linalg.matmul` MxK * KxN + bias (+ `activation`: "relu" | "gelu")."""
    b = FuncBuilder()
    x = Operand("%input", (m, k))
    w = Operand("%weight", (k, n))
    bias = Operand("%bias", (n,))
    init = b.filled((m, n), b.const("zero", "0.0"))
    mm = b.named("linalg.matmul", "", [x, w], init, 2 * m * n * k)
    y = b.bias_add(mm, bias)
    if activation == "gelu":
        y = b.gelu(y)
    elif activation == "relu":
        y = b.relu(y)
    return Layer(name, network, count, where, [x, w, bias], y, b)


def batch_matmul(network: str, name: str, count: int, where: str,
                 batch: int, m: int, k: int, n: int,
                 scale: float | None = None) -> Layer:
    b = FuncBuilder()
    lhs = Operand("%lhs", (batch, m, k))
    rhs = Operand("%rhs", (batch, k, n))
    init = b.filled((batch, m, n), b.const("zero", "0.0"))
    y = b.named("linalg.batch_matmul", "", [lhs, rhs], init,
                2 * batch * m * n * k)
    if scale is not None:
        y = b.scale(y, "score_scale", repr(scale))
    return Layer(name, network, count, where, [lhs, rhs], y, b)


def row_max(network: str, name: str, count: int, where: str,
            shape: tuple[int, ...]) -> Layer:
    """Max over the last dim (softmax's first reduction)."""
    b = FuncBuilder()
    rank = len(shape)
    x = Operand("%input", shape)
    init = b.filled(shape[:-1], b.const("neg_inf", NEG_INF))
    y = b.generic([(x, range(rank))], init, rank, [rank - 1],
                  ["%0 = arith.maximumf %in0, %acc : f32"], "%0", 1, "max")
    return Layer(name, network, count, where, [x], y, b)


def row_sum_exp(network: str, name: str, count: int, where: str,
                shape: tuple[int, ...]) -> Layer:
    """sum(exp(x - max)) over the last dim (softmax's denominator)."""
    b = FuncBuilder()
    rank = len(shape)
    x = Operand("%input", shape)
    mx = Operand("%row_max", shape[:-1])
    init = b.filled(shape[:-1], b.const("zero", "0.0"))
    body = ["%0 = arith.subf %in0, %in1 : f32",
            "%1 = math.exp %0 : f32",
            "%2 = arith.addf %1, %acc : f32"]
    y = b.generic([(x, range(rank)), (mx, range(rank - 1))], init, rank,
                  [rank - 1], body, "%2", 3, "sumexp")
    return Layer(name, network, count, where, [x, mx], y, b)


def row_mean(network: str, name: str, count: int, where: str,
             shape: tuple[int, ...]) -> Layer:
    """mean over the last dim (layernorm's first reduction)."""
    b = FuncBuilder()
    rank = len(shape)
    x = Operand("%input", shape)
    init = b.filled(shape[:-1], b.const("zero", "0.0"))
    total = b.generic([(x, range(rank))], init, rank, [rank - 1],
                      ["%0 = arith.addf %in0, %acc : f32"], "%0", 1, "sum")
    y = b.scale(total, "inv_n", repr(1.0 / shape[-1]))
    return Layer(name, network, count, where, [x], y, b)


def row_variance(network: str, name: str, count: int, where: str,
                 shape: tuple[int, ...]) -> Layer:
    """mean((x - mean)^2) over the last dim (layernorm's second
    reduction)."""
    b = FuncBuilder()
    rank = len(shape)
    x = Operand("%input", shape)
    mean = Operand("%mean", shape[:-1])
    init = b.filled(shape[:-1], b.const("zero", "0.0"))
    body = ["%0 = arith.subf %in0, %in1 : f32",
            "%1 = arith.mulf %0, %0 : f32",
            "%2 = arith.addf %1, %acc : f32"]
    total = b.generic([(x, range(rank)), (mean, range(rank - 1))], init,
                      rank, [rank - 1], body, "%2", 3, "sqsum")
    y = b.scale(total, "inv_n", repr(1.0 / shape[-1]))
    return Layer(name, network, count, where, [x, mean], y, b)


def resnet50_layers() -> list[Layer]:
    """The distinct layers of torchvision's ResNet-50 (v1.5: the stride is on
    the 3x3 conv) at 224x224. Every conv is conv + folded BN + ReLU; the
    residual add is not modelled, so the layer1 downsample projection (1x1,
    64->256, stride 1) has the same shape as layer1's conv3 and is counted
    with it."""
    net = "resnet50"
    layers = [
        conv2d(net, "resnet50_stem_conv7x7s2_224_3_64", 1,
               "stem conv1 7x7/2, pad 3", 224, 3, 64, 7, 2),
        max_pool(net, "resnet50_stem_maxpool3x3s2_112_64", 1,
                 "stem maxpool 3x3/2, pad 1", 112, 64, 3, 2),
    ]
    # (stage, blocks, input size, input channels, width, output channels)
    stages = [(1, 3, 56, 64, 64, 256), (2, 4, 56, 256, 128, 512),
              (3, 6, 28, 512, 256, 1024), (4, 3, 14, 1024, 512, 2048)]
    for stage, blocks, size, in_ch, width, out_ch in stages:
        stride = 1 if stage == 1 else 2
        out = size // stride
        p = f"resnet50_l{stage}"
        first = f"layer{stage}[0]"
        rest = f"layer{stage}[1..{blocks - 1}]"
        conv3_count = blocks + (1 if stride == 1 else 0)
        conv2_count = blocks if stride == 1 else 1
        conv2_where = (f"layer{stage}[*].conv2 3x3, pad 1" if stride == 1
                       else f"{first}.conv2 3x3/{stride}, pad 1")
        conv3_where = f"layer{stage}[*].conv3 1x1"
        if stride == 1:
            conv3_where += f" and {first}.downsample 1x1 (same shape)"
        layers += [
            conv2d(net, f"{p}_conv1x1_{size}_{in_ch}_{width}", 1,
                   f"{first}.conv1 1x1", size, in_ch, width, 1, 1),
            conv2d(net,
                   f"{p}_conv3x3{'s2' if stride > 1 else ''}"
                   f"_{size}_{width}_{width}", conv2_count, conv2_where, size,
                   width, width, 3, stride),
            conv2d(net, f"{p}_conv1x1_{out}_{width}_{out_ch}", conv3_count,
                   conv3_where, out, width, out_ch, 1, 1),
        ]
        if stride > 1:
            layers.append(
                conv2d(net, f"{p}_downsample1x1s2_{size}_{in_ch}_{out_ch}",
                       1, f"{first}.downsample 1x1/2", size, in_ch, out_ch,
                       1, 2))
            layers.append(
                conv2d(net, f"{p}_conv3x3_{out}_{width}_{width}", blocks - 1,
                       f"{rest}.conv2 3x3, pad 1", out, width, width, 3, 1))
        layers.append(
            conv2d(net, f"{p}_conv1x1_{out}_{out_ch}_{width}", blocks - 1,
                   f"{rest}.conv1 1x1", out, out_ch, width, 1, 1))
    layers += [
        global_avg_pool(net, "resnet50_avgpool_7_2048", 1,
                        "global average pool 7x7", 7, 2048),
        dense(net, "resnet50_fc_2048_1000", 1, "fc 2048->1000 + bias", 1,
              2048, 1000),
    ]
    return layers


def bert_base_layers() -> list[Layer]:
    """The distinct layers of BERT-base (12 layers, hidden 768, 12 heads of
    64, FFN 3072) at sequence length 128, batch 1."""
    net = "bert_base"
    seq, hidden, heads, ffn, n_layers = 128, 768, 12, 3072, 12
    head = hidden // heads
    return [
        dense(net, f"bert_proj_{seq}_{hidden}_{hidden}", 4 * n_layers,
              "attention Q, K, V and output projections + bias", seq, hidden,
              hidden),
        dense(net, f"bert_ffn1_{seq}_{hidden}_{ffn}", n_layers,
              "FFN intermediate + bias + GELU (tanh)", seq, hidden, ffn,
              "gelu"),
        dense(net, f"bert_ffn2_{seq}_{ffn}_{hidden}", n_layers,
              "FFN output + bias", seq, ffn, hidden),
        batch_matmul(net, f"bert_attn_scores_{heads}_{seq}_{head}_{seq}",
                     n_layers, "Q K^T per head, scaled by 1/sqrt(64)", heads,
                     seq, head, seq, scale=1.0 / head ** 0.5),
        batch_matmul(net, f"bert_attn_context_{heads}_{seq}_{seq}_{head}",
                     n_layers, "softmax(scores) V per head", heads, seq, seq,
                     head),
        row_max(net, f"bert_softmax_max_{heads}_{seq}_{seq}", n_layers,
                "softmax row max over keys", (heads, seq, seq)),
        row_sum_exp(net, f"bert_softmax_sumexp_{heads}_{seq}_{seq}",
                    n_layers, "softmax sum of exp(x - max) over keys",
                    (heads, seq, seq)),
        row_mean(net, f"bert_layernorm_mean_{seq}_{hidden}",
                 2 * n_layers + 1,
                 "layernorm mean (2 per layer + embeddings)", (seq, hidden)),
        row_variance(net, f"bert_layernorm_var_{seq}_{hidden}",
                     2 * n_layers + 1,
                     "layernorm variance (2 per layer + embeddings)",
                     (seq, hidden)),
    ]


NETWORKS = {"resnet50": resnet50_layers, "bert_base": bert_base_layers}


def render_module(layers: Sequence[Layer], command: str) -> str:
    header = [
        "// Distinct layers of ResNet-50 (224x224, NHWC) and BERT-base",
        "// (sequence 128): Linalg on tensors, f32, batch 1.",
        "//",
        f"// Generated by: {command}",
        "// Source: python/tcl/layers.py. Do not edit; regenerate instead.",
        "//",
        "// Each function is one distinct layer, its inputs and weights as",
        "// arguments. tcl.weight is the number of times the layer occurs in",
        "// its network (the task weight); conv inputs are already padded.",
        "//",
        f"// {'layer':<42} {'network':<10} {'count':>5} {'MFLOP':>10}",
    ]
    for layer in layers:
        header.append(f"// {layer.name:<42} {layer.network:<10} "
                      f"{layer.count:>5} {layer.builder.flops / 1e6:>10.2f}")
    body = "\n\n".join(layer.render() for layer in layers)
    return "\n".join(header) + "\n\n" + body + "\n"


def print_summary(layers: Sequence[Layer], out: TextIO) -> None:
    """Per-network FLOPs: distinct layers once, and weighted by counts."""
    for network in NETWORKS:
        mine = [l for l in layers if l.network == network]
        if not mine:
            continue
        once = sum(l.builder.flops for l in mine)
        weighted = sum(l.builder.flops * l.count for l in mine)
        anchors = sum(l.builder.anchor_flops * l.count for l in mine)
        macs = sum(l.builder.contraction_flops * l.count for l in mine) / 2
        print(f"{network}: {len(mine)} distinct layers, "
              f"{sum(l.count for l in mine)} instances; "
              f"{once / 1e9:.3f} GFLOP distinct, "
              f"{weighted / 1e9:.3f} GFLOP weighted "
              f"({anchors / 1e9:.3f} in anchor ops; "
              f"conv/matmul {macs / 1e9:.3f} GMAC)", file=out)
    total = sum(l.builder.flops for l in layers)
    print(f"module: {len(layers)} functions, {total / 1e9:.3f} GFLOP with "
          "each function once (compare with tcl-opt "
          "--tcl-extract-tasks=report=true)", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m tcl.layers",
        description="Write the distinct conv/matmul layers of ResNet-50 and "
        "BERT-base as Linalg-on-tensors MLIR, one func per layer with "
        "tcl.weight = its occurrence count.")
    parser.add_argument("-o", "--output", default="-",
                        help="output .mlir file ('-': stdout)")
    parser.add_argument("--networks", nargs="+", choices=sorted(NETWORKS),
                        default=list(NETWORKS),
                        help="networks to include (default: all)")
    parser.add_argument("--quiet", action="store_true",
                        help="do not print the FLOP summary to stderr")
    args = parser.parse_args(argv)

    layers = [l for net in args.networks for l in NETWORKS[net]()]
    command = ("PYTHONPATH=python /usr/bin/python3 -m tcl.layers -o "
               f"{args.output}")
    if args.networks != list(NETWORKS):
        command += " --networks " + " ".join(args.networks)
    text = render_module(layers, command)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    if not args.quiet:
        print_summary(layers, sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
