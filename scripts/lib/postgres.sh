# Sourced by scripts/test.sh: start a throwaway PostgreSQL server for the tests that are about
# PostgreSQL, when the server binaries are installed and no SPEAR_TEST_POSTGRES_URL is given.
# It listens on a Unix socket in a temporary folder only, and is stopped when the script exits.
start_test_postgres() {
  [ -n "${SPEAR_TEST_POSTGRES_URL:-}" ] && return 0
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL server not installed: the PostgreSQL tests will be skipped." >&2
    return 0
  fi
  PG_TMP=$(mktemp -d)
  local as=()
  # initdb refuses to run as root; the Debian package creates a `postgres` user for this.
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_TMP"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PG_TMP/data" -U spear --auth=trust >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w \
    -o "-c listen_addresses='' -k $PG_TMP -c fsync=off -c max_connections=200" start >/dev/null
  export SPEAR_TEST_POSTGRES_URL="postgresql://spear@/postgres?host=$PG_TMP"
  PG_STOP=("${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -m immediate stop)
  trap 'stop_test_postgres' EXIT
}

stop_test_postgres() {
  [ -n "${PG_STOP:-}" ] && "${PG_STOP[@]}" >/dev/null 2>&1
  [ -n "${PG_TMP:-}" ] && rm -rf "$PG_TMP"
  return 0
}
