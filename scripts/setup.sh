#!/usr/bin/env bash
# Installs what zxvm's demo and tests need on a fresh machine (Node/npm/cc only):
# npm packages (Deno itself comes from npm) and the native shim. Idempotent and quick when
# everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/deno ] || [ ! -f node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
DENO=node_modules/.bin/deno
if [ -f scripts/build_shim.ts ]; then
  if command -v cc >/dev/null 2>&1; then
    # --no-embed: the tests check the embedded shim source as it is in the tree (a stale one
    # fails tests/url_import_test.ts instead of being silently regenerated here).
    "$DENO" run --allow-read --allow-write --allow-run --allow-env scripts/build_shim.ts --no-embed >&2
  else
    echo "setup: no C compiler (cc): the native backend will be unavailable; tests run emulated" >&2
  fi
fi
