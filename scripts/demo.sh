#!/usr/bin/env bash
# The demo: sets up .venv if needed, then runs the daemon on the embedded defaults against the
# local mail harness with simulated prospects (spear demo). Extra arguments go to `spear demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/venv.sh
ensure_venv
exec .venv/bin/spear demo "$@"
