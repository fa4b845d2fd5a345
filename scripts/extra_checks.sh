#!/usr/bin/env bash
# Extra checks run by scripts/test.sh: every benchmark once (so benches never rot; no timing
# is asserted anywhere).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bench_smoke.sh
