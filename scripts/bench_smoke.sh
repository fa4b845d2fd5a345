#!/usr/bin/env bash
# Smoke test of the benchmarks: runs every bench/*.bench.ts once (ZXVM_BENCH_SMOKE=1: one
# iteration per case, small live-mapping counts) and the C baseline once (--smoke), so they
# never rot. No timing is checked. Exits non-zero when anything fails to build or run.
# Usage: bash scripts/bench_smoke.sh    (from anywhere; needs node_modules/.bin/deno and cc)
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=node_modules/.bin/deno
export NO_COLOR=1
"$DENO" run --allow-read --allow-write --allow-run --allow-env scripts/build_shim.ts >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"${CC:-cc}" -O2 -Wall -Wextra -Werror -o "$out/bench_baseline" bench/baseline.c
"$out/bench_baseline" --smoke >"$out/baseline.jsonl"
[ "$(grep -c '"case"' "$out/baseline.jsonl")" -ge 20 ] || { echo "baseline: too few cases"; exit 1; }
ZXVM_BENCH_SMOKE=1 timeout 120 "$DENO" bench --allow-all bench/ >"$out/bench.out" 2>&1 ||
  { tail -n 40 "$out/bench.out"; echo "bench smoke: FAILED"; exit 1; }
# The report's case names and target rows must match the benches (a renamed case fails here).
"$DENO" run -A scripts/bench_report.ts --smoke --out "$out/RESULTS.smoke.md" >"$out/report.out" 2>&1 ||
  { tail -n 40 "$out/report.out"; echo "bench report smoke: FAILED"; exit 1; }
grep -q '^## Targets' "$out/RESULTS.smoke.md" || { echo "bench report smoke: no targets table"; exit 1; }
echo "bench smoke: ok ($(grep -c '^| ' "$out/bench.out") result rows; report rows $(grep -c '^| ' "$out/RESULTS.smoke.md"))"
