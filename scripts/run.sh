#!/usr/bin/env bash
# Command one: install what running the portal needs, then serve it (default 127.0.0.1:8000).
# Arguments go to `portal serve`, e.g. ./scripts/run.sh --port 8080. On first run the portal
# prints a one-time setup link for the first facilitator account.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv"
  python3 -m venv .venv
fi
# A development install (scripts/install.sh) also satisfies running.
hash=$(sha256sum pyproject.toml | cut -c1-16)
if [[ ! -f .venv/.installed-dev-$hash && ! -f .venv/.installed-run-$hash ]]; then
  say "installing the portal into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
  rm -f .venv/.installed-*
  touch ".venv/.installed-run-$hash"
fi

if [[ -f package-lock.json ]]; then
  lock="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
  if [[ ! -f $lock ]]; then
    say "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    touch "$lock"
  fi
else
  say "installing npm packages (npm install: no package-lock.json yet)"
  npm install --no-audit --no-fund --loglevel=error
fi

./scripts/assets.sh
exec .venv/bin/portal serve "$@"
