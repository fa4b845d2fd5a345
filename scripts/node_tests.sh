#!/usr/bin/env bash
# Node side of CI (called by scripts/test.sh): builds the npm package into npm/ (tsc, same
# sources), runs the whole test suite under Node on the built package (`node --test`, TAP) once
# per backend (ZXVM_BACKEND=emulated, then native through koffi), then the packaging test
# (npm pack -> install into a fresh project -> Node 20 and `deno run npm:zxvm` round trips).
# Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
DENO=node_modules/.bin/deno
rc=0
backends="emulated native"
build_flags=()
if ! command -v "${CC:-cc}" >/dev/null 2>&1; then
  echo "node_tests: no C compiler: building without the prebuilt shim, emulated backend only"
  build_flags=(--skip-shim)
  backends="emulated"
fi
echo "== build npm package"
"$DENO" run -A scripts/build_npm.ts "${build_flags[@]}" || { echo "node_tests: build failed"; exit 1; }
for backend in $backends; do
  echo "== node --test on npm/tests (ZXVM_BACKEND=$backend, $(node --version))"
  (cd npm && ZXVM_BACKEND=$backend node --test --test-reporter=tap tests/) || rc=1
done
if [ "$backends" != "emulated" ]; then
  echo "== pack test"
  "$DENO" run -A scripts/pack_test.ts || rc=1
fi
exit $rc
