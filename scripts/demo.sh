#!/usr/bin/env bash
# Runs the tour: the origin document's two operations, then every error it documents.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/deno run --allow-ffi --allow-read --allow-env examples/tour.ts "$@"
