#!/usr/bin/env bash
# Set up, lint, and run every test (unit, terraform, checkov, end to end on the local cloud).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
