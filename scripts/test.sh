#!/usr/bin/env bash
# Set up, lint, type-check, check the layering, and run every test (unit, terraform,
# checkov, end to end on the local cloud).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests benchmarks scripts
.venv/bin/mypy                  # [tool.mypy] in pyproject.toml: check_untyped_defs
.venv/bin/lint-imports          # [tool.importlinter]: layers in pipeline order, no cycles
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
