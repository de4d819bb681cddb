#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for keyhound-store's tests. Installs nothing.
#
#   .ci/postgres.sh bindir      prints PostgreSQL's binary directory (fails when there is none)
#   .ci/postgres.sh start       initdb into a new temporary directory, start on 127.0.0.1 on a
#                               free port (no Unix socket), wait until pg_isready; prints
#                                 KEYHOUND_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres
#                                 KEYHOUND_TEST_POSTGRES_DIR=DIR
#                               on stdout (everything else goes to stderr)
#   .ci/postgres.sh stop DIR    stops that cluster and removes DIR
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user.
set -euo pipefail

bindir() {
  local d
  d=$(pg_config --bindir 2>/dev/null || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
    echo "$d"
    return
  fi
  # Debian keeps the server's binaries off the PATH, one directory per major version.
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then
    echo "$d"
    return
  fi
  d=$(command -v initdb || true)
  if [ -n "$d" ]; then
    dirname "$(readlink -f "$d")"
    return
  fi
  echo "error: no PostgreSQL binaries (initdb, postgres); install postgresql" >&2
  return 1
}

# Runs a PostgreSQL program, as the postgres user when this is root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local bin dir port i
  bin=$(bindir)
  "$bin/postgres" --version >&2
  dir=$(mktemp -d "${TMPDIR:-/tmp}/keyhound-pg.XXXXXX")
  chmod 0755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
  fi
  (cd "$dir" && as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
    --locale=C --no-sync --no-instructions >"$dir/initdb.log" 2>&1) || {
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    return 1
  }
  for i in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    if port_in_use "$port"; then
      continue
    fi
    if (cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -s \
      -o "-h 127.0.0.1 -p $port -k '' -c fsync=off -c synchronous_commit=off" start) >&2; then
      for _ in $(seq 1 120); do
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
          echo "KEYHOUND_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
          echo "KEYHOUND_TEST_POSTGRES_DIR=$dir"
          return 0
        fi
        sleep 0.5
      done
      echo "error: PostgreSQL did not get ready on port $port" >&2
      (cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -s stop) >&2 || true
    fi
    echo "attempt $i on port $port failed:" >&2
    tail -n 5 "$dir/server.log" >&2 || true
  done
  rm -rf "$dir"
  return 1
}

stop() {
  local dir=${1:?usage: .ci/postgres.sh stop DIR} bin
  case "$dir" in
    */keyhound-pg.*) ;;
    *) echo "error: $dir is not a cluster this script started" >&2; return 1 ;;
  esac
  bin=$(bindir)
  if [ -f "$dir/data/postmaster.pid" ]; then
    (cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -s -w stop) >&2 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  bindir) bindir ;;
  start) start ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: .ci/postgres.sh bindir | start | stop DIR" >&2
    exit 2
    ;;
esac
