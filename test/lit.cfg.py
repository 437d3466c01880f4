# -*- Python -*- lit configuration for TCL's FileCheck tests.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "TCL"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tcl_obj_root, "test")

llvm_config.with_system_environment(["HOME", "TMPDIR"])
# FileCheck, not and count come from llvm-22-tools.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.use_default_substitutions()
llvm_config.add_tool_substitutions(
    ["tcl-opt", "tcl-run", "tcl-tune", "tcl-dataset", "tcl-train", "tcl-sample", "tcl-distill", "tcl-cuda-runner"], [config.tcl_tools_dir, config.llvm_tools_dir])
llvm_config.add_tool_substitutions(["mlir-opt"], [config.llvm_tools_dir])
# The directory of TCL's tools, e.g. to copy one elsewhere.
config.substitutions.append(("%{tcl_tools_dir}", config.tcl_tools_dir))

# %python runs /usr/bin/python3 (Debian's, with python3-onnx/-torch) on the
# repository's python/ package; `onnx` and `torch` are features for REQUIRES.
import subprocess

_python = "/usr/bin/python3"
_pythonpath = os.path.join(os.path.dirname(config.test_source_root), "python")
# lit's default %python (its own interpreter) is replaced, not shadowed.
config.substitutions = [s for s in config.substitutions if s[0] != "%python"]
config.substitutions.append(
    ("%python", f"env PYTHONPATH={_pythonpath} {_python}"))
for _module in ("onnx", "torch"):
    if subprocess.run([_python, "-c", f"import {_module}"],
                      stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        config.available_features.add(_module)

# `ptxas` (CUDA toolkit) assembles generated PTX where it is installed; tests
# that need it say `REQUIRES: ptxas` and call it as %ptxas.
import shutil

_ptxas = "/usr/local/cuda/bin/ptxas"
if not os.path.exists(_ptxas):
    _ptxas = shutil.which("ptxas")
if _ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", _ptxas))

# `cuda-runner`: tcl-cuda-runner was built (the CUDA toolkit's headers were
# found). `cuda-gpu`: this machine also has an NVIDIA driver with a GPU, so
# tests may measure on it; tests for the no-GPU path say
# `UNSUPPORTED: cuda-gpu`.
# %fake_cuda is the directory of the stand-in libcuda.so.1 (LD_LIBRARY_PATH).
if os.path.exists(os.path.join(config.tcl_tools_dir, "tcl-cuda-runner")):
    config.available_features.add("cuda-runner")
    config.substitutions.append(
        ("%fake_cuda", os.path.join(config.tcl_obj_root, "test", "fake-cuda")))
if os.path.isdir("/proc/driver/nvidia/gpus") and os.listdir("/proc/driver/nvidia/gpus"):
    config.available_features.add("cuda-gpu")
