"""Run a network through TCL and compare its output with PyTorch eager.

The network (a name from ``python3 -m tcl.zoo list``) is built with its
seeded random weights, exported to ONNX (cached in ``--onnx-dir``) and
imported with ``tcl.onnx_import``; the fixed random input (seeded standard
normal) goes through PyTorch eager and through the imported MLIR, and the
script prints the max abs error and the max relative error (max abs error
divided by max |reference|).  It exits with status 1 when the relative error
is above ``--tolerance``.

Usage::

    PYTHONPATH=python /usr/bin/python3 -m tcl.check_model mobilenet_v2
    PYTHONPATH=python /usr/bin/python3 -m tcl.check_model resnet50 \\
        --database db.jsonl --target cpu
    PYTHONPATH=python /usr/bin/python3 -m tcl.check_model bert_tiny \\
        --backend mlir-runner

Backends:

``tcl-run`` (default)
    ``build/bin/tcl-opt MODEL.mlir --tcl-preprocess -o MODEL.pre.mlir``
    (to fused Linalg, as for tuning, so that the workload keys match a
    tuning database), then ``build/bin/tcl-run MODEL.pre.mlir
    --entry=forward --inputs=DIR --output=OUT.npy [--database=DB]
    [--target=T]``, where ``DIR`` holds ``arg0.npy`` ... ``argN.npy`` (one
    per function argument, inputs first, then weights; float32, C order,
    the MLIR argument shapes).  TCL's default schedules, or the tuned ones
    when a database is given.
``mlir-runner``
    Stock MLIR only, independent of TCL: the module is wrapped in a
    ``@main`` that holds the input and weights as dense constants, lowered
    with one-shot bufferization and ``--convert-linalg-to-loops`` and run
    with ``mlir-runner``.  Naive loops: fine for BERT-tiny, MobileNet-V2 and
    the small test modules, slow for the larger networks.  It checks the
    importer itself.

Tolerance: the check passes when the max relative error (max abs error /
max |reference|) is at most ``--tolerance``, default 1e-3.  Both sides
compute in f32 but round differently (summation order of tiled and
vectorized reductions, BN folded into the conv weights, other exp/erf
approximations); through the evaluation networks that gives relative
errors of about 1e-6 (measured through tcl-run: BERT-tiny 4e-7,
MobileNet-V2 8e-7).  1e-3 leaves three orders of magnitude for rounding,
while a real miscompilation (a wrong index map, a dropped bias, a bad tile
boundary) moves the output by O(1) relative.  The error is scaled by the
max of the whole output, not per element: with random weights some
outputs are tiny (MobileNet-V2's logits are ~1e-9), and per-element
relative errors of near-zero values would only measure rounding noise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Sequence

import numpy as np

from tcl import onnx_import

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
LLVM_BIN = "/usr/lib/llvm-22/bin"
LLVM_LIB = "/usr/lib/llvm-22/lib"
DEFAULT_TOLERANCE = 1e-3


class CheckError(Exception):
    """A backend failed to produce an output."""


def write_arguments(directory: str, inputs: Sequence[np.ndarray],
                    weights_npz: str) -> int:
    """Writes arg0.npy ... argN.npy (inputs first, then the weights of the
    .npz, whose keys are argN); returns the number of arguments."""
    os.makedirs(directory, exist_ok=True)
    for i, x in enumerate(inputs):
        np.save(os.path.join(directory, f"arg{i}.npy"),
                np.ascontiguousarray(x, dtype=np.float32))
    count = len(inputs)
    with np.load(weights_npz) as weights:
        for key in sorted(weights.files, key=lambda k: int(k[3:])):
            np.save(os.path.join(directory, f"{key}.npy"),
                    np.ascontiguousarray(weights[key], dtype=np.float32))
            count += 1
    return count


def preprocess(mlir: str, out: str, tcl_opt: str, timeout: float) -> None:
    """Runs `tcl-opt MLIR --tcl-preprocess -o OUT`: an imported network to
    fused Linalg on tensors, the form tcl-tune extracts tasks from (and
    the workload keys of a database refer to)."""
    cmd = [tcl_opt, mlir, "--tcl-preprocess", "-o", out]
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise CheckError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                         f"{proc.stderr[-4000:]}")


def run_tcl(mlir: str, args_dir: str, out: str, tcl_run: str,
            database: str | None, target: str | None,
            timeout: float, extra: Sequence[str] = ()) -> np.ndarray:
    """Runs `tcl-run MLIR --entry=forward --inputs --output` on an already
    preprocessed module and loads its output; `extra` are more tcl-run
    options (e.g. `--json=FILE`, `--min-repeats=N`)."""
    cmd = [tcl_run, mlir, "--entry=forward", f"--inputs={args_dir}",
           f"--output={out}"]
    if database:
        cmd.append(f"--database={database}")
    if target:
        cmd.append(f"--target={target}")
    cmd.extend(extra)
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise CheckError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                         f"{proc.stderr[-4000:]}")
    return np.load(out)


# -- the mlir-runner backend ------------------------------------------------

def _dense(array: np.ndarray) -> str:
    """A dense f32 tensor attribute in hex form (little endian)."""
    data = np.ascontiguousarray(array, dtype="<f4").tobytes()
    return f'dense<"0x{data.hex().upper()}">'


def runner_module(mlir_text: str, inputs: Sequence[np.ndarray],
                  weights: Sequence[np.ndarray]) -> str:
    """`mlir_text` plus a `@main` that calls `@forward` on constant
    arguments and prints the (single) result with printMemrefF32."""
    match = re.search(r"func\.func @forward\((.*?)\) -> \((.*?)\) \{",
                      mlir_text, re.S)
    if not match:
        raise CheckError("no func.func @forward in the module")
    result_type = match.group(2).strip()
    if result_type.count("tensor<") != 1:
        raise CheckError("mlir-runner backend: only one result supported")
    arg_types = re.findall(r"%\w+: (tensor<[^>]*>)", match.group(1))
    arrays = list(inputs) + list(weights)
    if len(arg_types) != len(arrays):
        raise CheckError(f"{len(arg_types)} arguments, {len(arrays)} "
                         "values")
    lines = ["func.func private @printMemrefF32(tensor<*xf32>)",
             "func.func @main() {"]
    names = []
    for i, (t, a) in enumerate(zip(arg_types, arrays)):
        lines.append(f"  %a{i} = arith.constant {_dense(a)} : {t}")
        names.append(f"%a{i}")
    lines.append(f"  %r = call @forward({', '.join(names)}) : "
                 f"({', '.join(arg_types)}) -> {result_type}")
    lines.append(f"  %u = tensor.cast %r : {result_type} to tensor<*xf32>")
    lines.append("  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()")
    lines.append("  return")
    lines.append("}")
    return mlir_text + "\n" + "\n".join(lines) + "\n"


LOWERING = [
    "--one-shot-bufferize=bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map",
    "--convert-linalg-to-loops", "--buffer-deallocation-pipeline",
    "--expand-strided-metadata", "--lower-affine", "--convert-scf-to-cf",
    "--convert-math-to-llvm", "--convert-math-to-libm",
    "--finalize-memref-to-llvm", "--convert-arith-to-llvm",
    "--convert-cf-to-llvm", "--convert-func-to-llvm",
    "--reconcile-unrealized-casts",
]


def run_mlir_runner(mlir: str, npz: str, inputs: Sequence[np.ndarray],
                    work: str, timeout: float) -> np.ndarray:
    """Lowers the module with stock MLIR passes and runs it with
    mlir-runner; parses the printed result."""
    with open(mlir, encoding="utf-8") as f:
        text = f.read()
    with np.load(npz) as w:
        weights = [w[k] for k in sorted(w.files, key=lambda k: int(k[3:]))]
    wrapped = os.path.join(work, "runner.mlir")
    with open(wrapped, "w", encoding="utf-8") as f:
        f.write(runner_module(text, inputs, weights))
    lowered = os.path.join(work, "runner.llvm.mlir")
    opt = subprocess.run([os.path.join(LLVM_BIN, "mlir-opt"), wrapped,
                          *LOWERING, "-o", lowered], capture_output=True,
                         text=True, timeout=timeout)
    if opt.returncode != 0:
        raise CheckError(f"mlir-opt lowering failed:\n{opt.stderr[-4000:]}")
    libs = ",".join(os.path.join(LLVM_LIB, lib) for lib in
                    ("libmlir_runner_utils.so",
                     "libmlir_c_runner_utils.so"))
    run = subprocess.run([os.path.join(LLVM_BIN, "mlir-runner"), lowered,
                          "-e", "main", "-entry-point-result=void", "-O2",
                          f"-shared-libs={libs}"], capture_output=True,
                         text=True, timeout=timeout)
    if run.returncode != 0:
        raise CheckError(f"mlir-runner failed:\n{run.stderr[-4000:]}")
    return parse_memref(run.stdout)


def parse_memref(text: str) -> np.ndarray:
    """Parses printMemrefF32 output into an array."""
    head = re.search(r"sizes = \[([0-9, ]*)\]", text)
    if not head:
        raise CheckError(f"unexpected mlir-runner output: {text[:400]}")
    sizes = [int(s) for s in head.group(1).split(",") if s.strip()]
    data = text[text.index("data =") + len("data ="):]
    values = re.findall(r"[-+]?(?:nan|inf|\d+\.?\d*(?:e[-+]?\d+)?)", data)
    array = np.array([float(v) for v in values], dtype=np.float32)
    return array.reshape(sizes)


# -- comparison -------------------------------------------------------------

def compare(actual: np.ndarray, reference: np.ndarray) -> tuple[float,
                                                               float]:
    """(max abs error, max abs error / max |reference|)."""
    if actual.shape != reference.shape:
        actual = actual.reshape(reference.shape)
    err = float(np.max(np.abs(actual.astype(np.float64) -
                              reference.astype(np.float64))))
    scale = float(np.max(np.abs(reference))) or 1.0
    return err, err / scale


def check_module(module, example, work: str, backend: str = "mlir-runner",
                 tcl_run: str | None = None, database: str | None = None,
                 target: str | None = None, timeout: float = 600,
                 onnx_path: str | None = None,
                 tcl_opt: str | None = None) -> tuple[float, float]:
    """Exports `module` (eval mode) on `example`, imports it, runs it with
    `backend` and compares with PyTorch eager; returns (abs, rel) error."""
    import torch  # noqa: PLC0415
    from tcl import export  # noqa: PLC0415
    os.makedirs(work, exist_ok=True)
    module = module.eval()
    if onnx_path is None:
        onnx_path = os.path.join(work, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(module, (example,), onnx_path,
                              opset_version=export.OPSET,
                              do_constant_folding=True,
                              training=torch.onnx.TrainingMode.EVAL)
    with torch.no_grad():
        reference = module(example).numpy()
    return check_onnx(onnx_path, [example.numpy()], reference, work,
                      backend, tcl_run, database, target, timeout, tcl_opt)


def check_onnx(onnx_path: str, inputs: Sequence[np.ndarray],
               reference: np.ndarray, work: str, backend: str,
               tcl_run: str | None = None, database: str | None = None,
               target: str | None = None,
               timeout: float = 600,
               tcl_opt: str | None = None) -> tuple[float, float]:
    """Imports `onnx_path`, runs it on `inputs` (tcl-run backend: after
    `tcl-opt --tcl-preprocess`) and compares with `reference`."""
    mlir = os.path.join(work, "model.mlir")
    npz = os.path.join(work, "model.npz")
    onnx_import.import_file(onnx_path, mlir, npz)
    if backend == "mlir-runner":
        actual = run_mlir_runner(mlir, npz, inputs, work, timeout)
    else:
        args_dir = os.path.join(work, "args")
        write_arguments(args_dir, inputs, npz)
        pre = os.path.join(work, "model.pre.mlir")
        preprocess(mlir, pre, tcl_opt or os.path.join(REPO,
                                                       "build/bin/tcl-opt"),
                   timeout)
        actual = run_tcl(pre, args_dir, os.path.join(work, "out.npy"),
                         tcl_run or os.path.join(REPO, "build/bin/tcl-run"),
                         database, target, timeout)
    return compare(actual, reference)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m tcl.check_model",
        description="Run a zoo network through TCL (or stock MLIR) on its "
        "fixed random input and weights and compare with PyTorch eager. "
        "Prints the max abs error and the max relative error (max abs "
        "error / max |reference|); exits 1 if the relative error exceeds "
        f"--tolerance (default {DEFAULT_TOLERANCE:g}, f32).")
    parser.add_argument("network", help="network name (tcl.zoo list)")
    parser.add_argument("--backend", choices=("tcl-run", "mlir-runner"),
                        default="tcl-run",
                        help="what runs the MLIR (default: tcl-run)")
    parser.add_argument("--tcl-run", default=os.path.join(
        REPO, "build/bin/tcl-run"), help="tcl-run binary")
    parser.add_argument("--tcl-opt", default=os.path.join(
        REPO, "build/bin/tcl-opt"), help="tcl-opt binary (the tcl-run "
        "backend preprocesses with --tcl-preprocess first)")
    parser.add_argument("--database", help="tuning database (JSON Lines) "
                        "for tcl-run; default schedules otherwise")
    parser.add_argument("--target", help="tcl-run --target (e.g. cpu)")
    parser.add_argument("--onnx-dir", default=os.path.join(REPO,
                                                           "build/onnx"),
                        help="ONNX cache directory")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help="max relative error (default %(default)g)")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds per backend step")
    parser.add_argument("--keep", help="keep the work files in this "
                        "directory (default: a temporary directory)")
    args = parser.parse_args(argv)

    try:
        import torch  # noqa: PLC0415, F401
    except ImportError:
        print("check_model: SKIPPED: python3-torch is not installed",
              file=sys.stderr)
        return 0
    from tcl import export, zoo  # noqa: PLC0415
    try:
        spec = zoo.find(args.network)
    except KeyError as err:
        print(f"check_model: {err.args[0]}", file=sys.stderr)
        return 1
    onnx_path = os.path.join(args.onnx_dir, spec.name + ".onnx")
    if not os.path.exists(onnx_path):
        export.export_onnx(spec, onnx_path)
    with torch.no_grad():
        x = spec.example_input()
        reference = spec.build()(x).numpy()
    work = args.keep or tempfile.mkdtemp(prefix="tcl-check-")
    try:
        abs_err, rel_err = check_onnx(
            onnx_path, [x.numpy()], reference, work, args.backend,
            args.tcl_run, args.database, args.target, args.timeout,
            args.tcl_opt)
    except (CheckError, onnx_import.OnnxImportError,
            subprocess.TimeoutExpired, OSError) as err:
        print(f"check_model: {spec.name}: {err}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    ok = rel_err <= args.tolerance
    print(f"{spec.name}: backend {args.backend}: max abs error "
          f"{abs_err:.3e}, max relative error {rel_err:.3e} "
          f"(max |reference| {float(np.max(np.abs(reference))):.3g}; "
          f"tolerance {args.tolerance:g}): {'OK' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
