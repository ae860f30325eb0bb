#!/usr/bin/env bash
# Set up a development environment from scratch: the project's venv (with the
# embedded local cloud and test tools) and checkov in a venv of its own (its
# bc-python-hcl2 clashes with python-hcl2). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
if [ ! -x .venv-checkov/bin/checkov ]; then
  "$PY" -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install -q --disable-pip-version-check 'checkov>=3.2,<4'
fi
command -v terraform >/dev/null || { echo "terraform >= 1.10 must be on PATH" >&2; exit 1; }
