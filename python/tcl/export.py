"""Build the networks TCL tunes as PyTorch modules and export them to ONNX.

Every network is built with reproducible random weights (``weights=None`` for
torchvision, so nothing is downloaded; ``torch.manual_seed`` before building),
put in ``eval()`` mode and exported with static shapes, a fixed opset and
constant folding.  The BERT encoders are built here from ``torch.nn``: their
input is the hidden states ``1 x seq x hidden`` (no embedding, no tokenizer).

Usage::

    PYTHONPATH=python /usr/bin/python3 -m tcl.export resnet50 -o build/onnx/resnet50.onnx
    PYTHONPATH=python /usr/bin/python3 -m tcl.export --list

The network catalogue (evaluation networks and the training zoo) is in
``tcl.zoo``; this module holds the model definitions and the export call.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from typing import Sequence

# The ONNX opset used for every export: 17 is the newest that PyTorch 1.13 and
# onnx 1.12 both know, and it has LayerNormalization and HardSwish as ops.
OPSET = 17

# The seed of every model's random weights and of the checked input.
SEED = 0


@dataclass(frozen=True)
class BertConfig:
    """A BERT encoder stack: `layers` post-norm transformer layers."""

    layers: int
    hidden: int
    heads: int
    ffn: int
    eps: float = 1e-12


BERT_CONFIGS = {
    "tiny": BertConfig(layers=2, hidden=128, heads=2, ffn=512),
    "medium": BertConfig(layers=8, hidden=512, heads=8, ffn=2048),
    "base": BertConfig(layers=12, hidden=768, heads=12, ffn=3072),
    "large": BertConfig(layers=24, hidden=1024, heads=16, ffn=4096),
}


def _torch():
    """Imports torch lazily so that `tcl.zoo list` works without it."""
    import torch  # noqa: PLC0415
    return torch


def bert_encoder(config: BertConfig):
    """A BERT encoder (post-norm layers as in BERT, exact GELU) as an
    `nn.Module` mapping hidden states `B x S x H` to `B x S x H`."""
    torch = _torch()
    nn = torch.nn

    class BertLayer(nn.Module):
        """One BERT layer: self-attention + residual + LayerNorm, then
        FFN (GELU) + residual + LayerNorm."""

        def __init__(self) -> None:
            super().__init__()
            h = config.hidden
            self.heads = config.heads
            self.head_dim = h // config.heads
            self.query = nn.Linear(h, h)
            self.key = nn.Linear(h, h)
            self.value = nn.Linear(h, h)
            self.attn_out = nn.Linear(h, h)
            self.attn_norm = nn.LayerNorm(h, eps=config.eps)
            self.ffn_in = nn.Linear(h, config.ffn)
            self.ffn_out = nn.Linear(config.ffn, h)
            self.ffn_norm = nn.LayerNorm(h, eps=config.eps)

        def forward(self, x):
            b, s, h = x.shape
            # Static Python ints: the exported Reshapes get constant shapes.
            split = (int(b), int(s), self.heads, self.head_dim)
            q = self.query(x).reshape(split).permute(0, 2, 1, 3)
            k = self.key(x).reshape(split).permute(0, 2, 3, 1)
            v = self.value(x).reshape(split).permute(0, 2, 1, 3)
            scores = torch.matmul(q, k) / math.sqrt(self.head_dim)
            probs = torch.softmax(scores, dim=-1)
            ctx = torch.matmul(probs, v).permute(0, 2, 1, 3)
            ctx = ctx.reshape(int(b), int(s), int(h))
            x = self.attn_norm(x + self.attn_out(ctx))
            y = self.ffn_out(torch.nn.functional.gelu(self.ffn_in(x)))
            return self.ffn_norm(x + y)

    class BertEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(BertLayer()
                                        for _ in range(config.layers))

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    return BertEncoder()


def torchvision_model(name: str):
    """A torchvision classification model with random weights."""
    import torchvision  # noqa: PLC0415
    kwargs = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        # Without pretrained weights these default to building auxiliary
        # classifiers; they are unused in eval mode, so leave them out.
        kwargs.update(aux_logits=False, init_weights=True)
    return getattr(torchvision.models, name)(**kwargs)


@dataclass(frozen=True)
class ModelSpec:
    """How to build one network and its input shape.

    `kind` is "torchvision" (`arch` is the torchvision builder name) or
    "bert" (`arch` is a key of `BERT_CONFIGS`)."""

    name: str
    kind: str
    arch: str
    input_shape: tuple[int, ...]

    def build(self):
        """The module, seeded and in eval mode."""
        torch = _torch()
        torch.manual_seed(SEED)
        if self.kind == "torchvision":
            model = torchvision_model(self.arch)
        elif self.kind == "bert":
            model = bert_encoder(BERT_CONFIGS[self.arch])
        else:
            raise ValueError(f"unknown model kind {self.kind!r}")
        return model.eval()

    def example_input(self):
        """The fixed random input (standard normal, seeded)."""
        torch = _torch()
        gen = torch.Generator().manual_seed(SEED + 1)
        return torch.randn(self.input_shape, generator=gen)


def vision(name: str, arch: str, batch: int = 1, size: int = 224) -> ModelSpec:
    return ModelSpec(name, "torchvision", arch, (batch, 3, size, size))


def bert(name: str, arch: str, seq: int = 128, batch: int = 1) -> ModelSpec:
    return ModelSpec(name, "bert", arch, (batch, seq, BERT_CONFIGS[arch].hidden))


def export_onnx(spec: ModelSpec, path: str) -> None:
    """Exports `spec` to `path` (atomically: a temp file, then a rename)."""
    torch = _torch()
    model = spec.build()
    x = spec.example_input()
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx.tmp", dir=directory)
    os.close(fd)
    try:
        # Not under no_grad: with gradients enabled nn.MultiheadAttention
        # (ViT) stays off its fused fast path, which has no ONNX export.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (x,), tmp, opset_version=OPSET,
                              do_constant_folding=True,
                              input_names=["input"], output_names=["output"],
                              training=torch.onnx.TrainingMode.EVAL)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: Sequence[str] | None = None) -> int:
    from tcl import zoo  # noqa: PLC0415
    parser = argparse.ArgumentParser(
        prog="python3 -m tcl.export",
        description="Export one network of the catalogue (see "
        "`python3 -m tcl.zoo list`) to ONNX with random seeded weights.")
    parser.add_argument("name", nargs="?", help="network name")
    parser.add_argument("-o", "--output", help="output .onnx file")
    parser.add_argument("--list", action="store_true",
                        help="list the network names and exit")
    args = parser.parse_args(argv)
    if args.list or not args.name:
        for spec in zoo.all_specs():
            print(spec.name)
        return 0
    spec = zoo.find(args.name)
    export_onnx(spec, args.output or f"build/onnx/{spec.name}.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
