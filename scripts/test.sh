#!/usr/bin/env bash
# Command two: install, then lint, type-check and test, stopping at the first failure.
# Arguments go to pytest, e.g. ./scripts/test.sh -k sqlite -x
#
# ./scripts/test.sh --fast is the loop for your own edits: the same checks, but only the tests
# that need neither PostgreSQL nor a browser (the unit and HTTP tests on SQLite, and the node
# tests). Tests say what they need with markers (see tests/conftest.py); the full run is CI's.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

selection=()
if [[ ${1:-} == --fast ]]; then
  shift
  selection=(-m "not postgres and not browser")
fi

./scripts/install.sh

say "ruff check"
.venv/bin/ruff check .
say "ruff format --check"
.venv/bin/ruff format --check .
say "mypy"
.venv/bin/mypy
say "node --test tests/js/"
node --test tests/js/
say "pytest ${selection[*]}"
.venv/bin/pytest "${selection[@]}" "$@"
