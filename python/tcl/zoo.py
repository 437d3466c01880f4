"""The networks TCL is evaluated on and the training zoo, and a CLI that
exports them to ONNX and imports them to MLIR.

The five evaluation networks are the held-out networks of the cost-model
experiments; the training zoo supplies the tasks of the cost-model dataset and
never contains an evaluation network (nor another batch size or image size of
one).  As in TenSet, some zoo networks appear at more than one batch or image
size.

Usage::

    PYTHONPATH=python /usr/bin/python3 -m tcl.zoo list
    PYTHONPATH=python /usr/bin/python3 -m tcl.zoo build --eval \\
        --onnx-dir build/onnx --out-dir examples/networks
    PYTHONPATH=python /usr/bin/python3 -m tcl.zoo build --train \\
        --onnx-dir build/onnx --out-dir examples/networks/zoo
    PYTHONPATH=python /usr/bin/python3 -m tcl.zoo build --only resnet18,bert_medium

`build` writes ``<onnx-dir>/<name>.onnx`` (export), ``<out-dir>/<name>.mlir``
and ``<weights-dir>/<name>.npz`` (import; the weights default to the ONNX
directory so that they stay out of the source tree) and skips outputs that are
newer than their inputs.  Exports run one at a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Sequence

from tcl.export import ModelSpec, bert, vision

EVAL_NETWORKS: list[ModelSpec] = [
    vision("resnet50", "resnet50"),
    vision("mobilenet_v2", "mobilenet_v2"),
    vision("resnext50_32x4d", "resnext50_32x4d"),
    bert("bert_base", "base"),
    bert("bert_tiny", "tiny"),
]

TRAIN_NETWORKS: list[ModelSpec] = [
    vision("resnet18", "resnet18"),
    vision("resnet34", "resnet34"),
    vision("resnet101", "resnet101"),
    vision("resnet152", "resnet152"),
    vision("wide_resnet50_2", "wide_resnet50_2"),
    vision("densenet121", "densenet121"),
    vision("vgg16", "vgg16"),
    vision("squeezenet1_1", "squeezenet1_1"),
    vision("shufflenet_v2_x1_0", "shufflenet_v2_x1_0"),
    vision("mnasnet1_0", "mnasnet1_0"),
    vision("efficientnet_b0", "efficientnet_b0"),
    vision("regnet_y_400mf", "regnet_y_400mf"),
    vision("googlenet", "googlenet"),
    vision("inception_v3", "inception_v3", size=299),
    vision("mobilenet_v3_large", "mobilenet_v3_large"),
    vision("vit_b_16", "vit_b_16"),
    bert("bert_medium", "medium"),
    bert("bert_large", "large"),
    # Other batch and image sizes, as TenSet samples them.
    vision("resnet18_b4", "resnet18", batch=4),
    vision("mobilenet_v3_large_160", "mobilenet_v3_large", size=160),
    vision("squeezenet1_1_b8_112", "squeezenet1_1", batch=8, size=112),
    bert("bert_medium_s256", "medium", seq=256),
]


def all_specs() -> list[ModelSpec]:
    """Evaluation networks first, then the training zoo."""
    return EVAL_NETWORKS + TRAIN_NETWORKS


def find(name: str) -> ModelSpec:
    """The network called `name`; raises KeyError listing the known ones."""
    for spec in all_specs():
        if spec.name == name:
            return spec
    raise KeyError(f"unknown network {name!r}; known: "
                   + ", ".join(s.name for s in all_specs()))


def _fresh(output: str, inputs: Sequence[str]) -> bool:
    """Whether `output` exists and is newer than every file of `inputs`."""
    if not os.path.exists(output):
        return False
    stamp = os.path.getmtime(output)
    return all(os.path.getmtime(i) <= stamp for i in inputs)


def build(specs: Sequence[ModelSpec], onnx_dir: str, out_dir: str,
          weights_dir: str, force: bool = False) -> list[str]:
    """Exports and imports `specs`; returns the names that failed."""
    from tcl import export, onnx_import  # noqa: PLC0415
    failed = []
    importer = os.path.abspath(onnx_import.__file__)
    for i, spec in enumerate(specs, 1):
        onnx_path = os.path.join(onnx_dir, spec.name + ".onnx")
        mlir_path = os.path.join(out_dir, spec.name + ".mlir")
        npz_path = os.path.join(weights_dir, spec.name + ".npz")
        prefix = f"[{i}/{len(specs)}] {spec.name}"
        try:
            start = time.time()
            if force or not os.path.exists(onnx_path):
                print(f"{prefix}: exporting {spec.input_shape} -> "
                      f"{onnx_path}", file=sys.stderr, flush=True)
                export.export_onnx(spec, onnx_path)
            if not force and _fresh(mlir_path, [onnx_path, importer]) and \
                    _fresh(npz_path, [onnx_path, importer]):
                print(f"{prefix}: up to date", file=sys.stderr)
                continue
            print(f"{prefix}: importing -> {mlir_path}", file=sys.stderr,
                  flush=True)
            summary = onnx_import.import_file(
                onnx_path, mlir_path, npz_path,
                command=(f"PYTHONPATH=python /usr/bin/python3 -m tcl.zoo "
                         f"build --only {spec.name}"))
            print(f"{prefix}: {summary.text()} ({time.time() - start:.1f}s)",
                  file=sys.stderr, flush=True)
        except Exception as err:  # report and go on with the next network
            print(f"{prefix}: FAILED: {err}", file=sys.stderr, flush=True)
            failed.append(spec.name)
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m tcl.zoo",
        description="List, export (ONNX) and import (MLIR) TCL's evaluation "
        "networks and training zoo.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="print the networks and their input shapes")
    b = sub.add_parser("build", help="export and import networks")
    which = b.add_mutually_exclusive_group()
    which.add_argument("--eval", action="store_true",
                       help="only the five evaluation networks")
    which.add_argument("--train", action="store_true",
                       help="only the training zoo")
    which.add_argument("--only", help="comma-separated network names")
    b.add_argument("--onnx-dir", default="build/onnx",
                   help="ONNX cache directory (default: build/onnx)")
    b.add_argument("--out-dir", default="build/networks",
                   help="directory of the .mlir files "
                   "(default: build/networks)")
    b.add_argument("--weights-dir",
                   help="directory of the .npz weights (default: the ONNX "
                   "directory)")
    b.add_argument("--force", action="store_true",
                   help="re-export and re-import even if up to date")
    args = parser.parse_args(argv)

    if args.command == "list":
        for group, specs in (("eval", EVAL_NETWORKS),
                             ("train", TRAIN_NETWORKS)):
            for spec in specs:
                shape = "x".join(str(d) for d in spec.input_shape)
                print(f"{spec.name:<26} {group:<6} {spec.kind:<12} "
                      f"{spec.arch:<20} {shape}")
        return 0

    if args.only:
        try:
            specs = [find(n) for n in args.only.split(",") if n]
        except KeyError as err:
            print(f"tcl.zoo: {err.args[0]}", file=sys.stderr)
            return 1
    elif args.eval:
        specs = EVAL_NETWORKS
    elif args.train:
        specs = TRAIN_NETWORKS
    else:
        specs = all_specs()
    failed = build(specs, args.onnx_dir, args.out_dir,
                   args.weights_dir or args.onnx_dir, args.force)
    if failed:
        print("tcl.zoo: failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
