#!/usr/bin/env bash
# The main job on the embedded local cloud: set up, then
# `kubeprod up examples/production.yaml --local` (render, check, plan, apply).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kubeprod up examples/production.yaml --local "$@"
