#!/usr/bin/env bash
# Installs what TCL needs, builds it from scratch if needed, and runs every
# test (lit + FileCheck and GoogleTest) through ctest, one summary at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir "${TCL_BUILD_DIR:-build}" --output-on-failure -j 1
