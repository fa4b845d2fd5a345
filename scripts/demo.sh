#!/usr/bin/env bash
# Runs the tour: the origin document's two operations, then every error it documents.
# `demo.sh ring` runs examples/worker_ring.ts instead (a ring buffer shared with a Worker).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
example=examples/tour.ts
if [ "${1:-}" = ring ]; then
  example=examples/worker_ring.ts
  shift
fi
exec node_modules/.bin/deno run --allow-ffi --allow-read --allow-env "$example" "$@"
