#!/usr/bin/env bash
# The test command: sets up .venv with the test extra, then runs lint, type checks and the whole
# test suite. Extra arguments go to pytest (e.g. scripts/test.sh -k cadence).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/venv.sh
source scripts/lib/postgres.sh
ensure_venv test
start_test_postgres
.venv/bin/ruff check engine tests scripts
.venv/bin/ruff format --check engine tests scripts
.venv/bin/mypy
.venv/bin/pytest "$@"
