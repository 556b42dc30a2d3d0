#!/usr/bin/env bash
# Install everything the portal and its tests need on a Debian 12 machine: the Python virtual
# environment, the npm packages, the served browser libraries, Chromium and PostgreSQL.
# Safe to run again: every step checks first and does nothing when it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
else
  as_root=(sudo)
fi

# Debian packages: the browser tests drive Debian's Chromium (Playwright's own browser download
# is not reachable here) and the database tests start a throwaway PostgreSQL server.
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update -qq
  "${apt[@]}" install -y -qq "${missing[@]}" > /dev/null
else
  say "Debian packages present (chromium, postgresql)"
fi

# Python: reinstall only when pyproject.toml changed (the install is editable, so code changes
# need no reinstall).
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv"
  python3 -m venv .venv
fi
stamp=".venv/.installed-dev-$(sha256sum pyproject.toml | cut -c1-16)"
if [[ ! -f $stamp ]]; then
  say "installing the portal and its development tools into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
else
  say "Python packages up to date"
fi

# npm: reinstall only when the lock file changed.
if [[ -f package-lock.json ]]; then
  lock="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
  if [[ ! -f $lock ]]; then
    say "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    touch "$lock"
  else
    say "npm packages up to date"
  fi
else
  say "installing npm packages (npm install: no package-lock.json yet)"
  npm install --no-audit --no-fund --loglevel=error
fi

./scripts/assets.sh
say "install done"
