#!/usr/bin/env bash
# Command two: install, then lint, type-check and test, stopping at the first failure.
# Arguments go to pytest, e.g. ./scripts/test.sh -k sqlite -x
#
# ./scripts/test.sh --fast is the loop for your own edits: the same checks, but only the tests
# that need neither PostgreSQL nor a browser nor the S3 server (the unit and HTTP tests on SQLite
# with blobs in the data folder, and the node tests). Tests say what they need with markers (see
# tests/conftest.py); the full run is CI's. The S3 variants would double the media tests' share
# of the fast loop for code that changes rarely, so only the full run has them.
#
# pytest runs in one pytest-xdist worker per core (-n auto), each with its own PostgreSQL server
# and Chromium, the long browser tests shared out as workers come free (worksteal). Measured
# here on 2 cores, it is faster than one process: browser tests spend much of their time
# waiting on the browser and the server. Pass -n 0 for one process (a later -n wins).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

selection=()
if [[ ${1:-} == --fast ]]; then
  shift
  selection=(-m "not postgres and not browser and not s3")
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
.venv/bin/pytest -n auto --dist worksteal "${selection[@]}" "$@"
