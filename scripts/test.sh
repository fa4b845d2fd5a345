#!/usr/bin/env bash
# Runs every zxvm check and test: static checks, the Deno suites on both backends, and the
# Node suites on the built npm package. Installs what it needs first (scripts/setup.sh).
# Ends with one plain line "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
DENO=node_modules/.bin/deno
PASSED=0
FAILED=0
STEP_FAILED=0
LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT

step() { # step NAME CMD...: a check that counts as one test
  local name=$1
  shift
  if "$@" >"$LOG/step.out" 2>&1; then
    echo "ok   $name"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL $name"
    tail -n 60 "$LOG/step.out"
    FAILED=$((FAILED + 1))
  fi
}

count_deno() { # parse Deno's summary: "ok | 12 passed (30 steps) | 0 failed (2 steps)"
  local line
  line=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$1" | tail -n 1)
  local p s f fs
  p=$(sed -nE 's/.*\| ([0-9]+) passed.*/\1/p' <<<"$line")
  s=$(sed -nE 's/.*passed \(([0-9]+) steps?\).*/\1/p' <<<"$line")
  f=$(sed -nE 's/.*\| ([0-9]+) failed.*/\1/p' <<<"$line")
  fs=$(sed -nE 's/.*failed \(([0-9]+) steps?\).*/\1/p' <<<"$line")
  PASSED=$((PASSED + ${p:-0} + ${s:-0}))
  FAILED=$((FAILED + ${f:-0} + ${fs:-0}))
  if [ -z "$line" ]; then FAILED=$((FAILED + 1)); fi
}

echo "== static checks"
step "deno fmt --check" "$DENO" fmt --check
step "deno lint" "$DENO" lint
step "deno check" "$DENO" check mod.ts src/ tests/ scripts/ examples/ bench/
step "deno check --doc (JSDoc examples)" "$DENO" check --doc mod.ts testing.ts src/
step "deno doc --lint mod.ts" "$DENO" doc --lint mod.ts

echo "== deno test (emulated and native backends)"
"$DENO" test --allow-all --parallel tests/ 2>&1 | tee "$LOG/deno.out" | grep -E '^(FAILED|ok \||error|.* => )' | tail -n 40
deno_rc=${PIPESTATUS[0]}
count_deno "$LOG/deno.out"
if [ "$deno_rc" -ne 0 ]; then
  grep -E -A12 '^ERRORS' "$LOG/deno.out" | head -n 80
  STEP_FAILED=1
fi

if [ -f scripts/node_tests.sh ]; then
  echo "== node (built npm package)"
  bash scripts/node_tests.sh 2>&1 | tee "$LOG/node.out" | tail -n 25
  node_rc=${PIPESTATUS[0]}
  np=$(grep -E '^(# pass|ℹ pass) [0-9]+' "$LOG/node.out" | awk '{s+=$3} END {print s+0}')
  nf=$(grep -E '^(# fail|ℹ fail) [0-9]+' "$LOG/node.out" | awk '{s+=$3} END {print s+0}')
  PASSED=$((PASSED + np))
  FAILED=$((FAILED + nf))
  if [ "$node_rc" -ne 0 ]; then STEP_FAILED=1; [ "$nf" -eq 0 ] && FAILED=$((FAILED + 1)); fi
fi

if [ -f scripts/extra_checks.sh ]; then
  echo "== extra checks"
  bash scripts/extra_checks.sh >"$LOG/extra.out" 2>&1 && { echo "ok   extra checks"; PASSED=$((PASSED + 1)); } ||
    { tail -n 60 "$LOG/extra.out"; echo "FAIL extra checks"; FAILED=$((FAILED + 1)); }
fi

echo "$PASSED passed, $FAILED failed"
if [ "$FAILED" -ne 0 ] || [ "$STEP_FAILED" -ne 0 ]; then exit 1; fi
exit 0
