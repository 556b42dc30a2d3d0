#!/usr/bin/env bash
# Copy the browser libraries the portal serves from node_modules/ into static/vendor/.
# static/vendor/ is git-ignored: it is rebuilt from the locked npm packages on every install.
# axe-core is not copied: only the tests use it, and they read it from node_modules/.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { printf 'assets.sh: %s\n' "$*" >&2; exit 1; }

htmx=node_modules/htmx.org/dist/htmx.min.js
sodium=node_modules/libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs
wrappers=node_modules/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs
qrcode=node_modules/qrcode-generator/dist/qrcode.mjs
for file in "$htmx" "$sodium" "$wrappers" "$qrcode"; do
  [[ -f $file ]] || fail "missing $file: run npm ci first"
done

# The wrappers import the core by its bare package name, which a browser cannot resolve without
# an import map (and an inline import map would need a CSP exception). Point it at the file next
# to it instead. If a new release writes the import differently, stop here rather than ship a
# module that fails to load.
grep -q 'from"libsodium-sumo"' "$wrappers" ||
  fail "the import pattern from\"libsodium-sumo\" is no longer in $wrappers: update assets.sh"

mkdir -p static/vendor
cp "$htmx" static/vendor/htmx.min.js
cp "$sodium" static/vendor/libsodium-sumo.mjs
cp "$qrcode" static/vendor/qrcode.mjs
sed 's#from"libsodium-sumo"#from"./libsodium-sumo.mjs"#' "$wrappers" > static/vendor/libsodium-wrappers.mjs.tmp
if grep -q 'from"libsodium-sumo"' static/vendor/libsodium-wrappers.mjs.tmp ||
  ! grep -q 'from"./libsodium-sumo.mjs"' static/vendor/libsodium-wrappers.mjs.tmp; then
  rm -f static/vendor/libsodium-wrappers.mjs.tmp
  fail "rewriting the libsodium-sumo import in $wrappers failed"
fi
mv static/vendor/libsodium-wrappers.mjs.tmp static/vendor/libsodium-wrappers.mjs
printf '==> browser libraries copied to static/vendor/\n'
