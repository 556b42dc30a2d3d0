#!/usr/bin/env bash
# Command two: install, then lint, type-check and test, stopping at the first failure.
# Arguments go to pytest, e.g. ./scripts/test.sh -k sqlite -x
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

./scripts/install.sh

say "ruff check"
.venv/bin/ruff check .
say "ruff format --check"
.venv/bin/ruff format --check .
say "mypy"
.venv/bin/mypy
say "node --test tests/js/"
node --test tests/js/
say "pytest"
.venv/bin/pytest "$@"
