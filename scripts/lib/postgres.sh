# Shared by scripts/test, scripts/dev-postgres and scripts/bench: install what is missing and run a
# throwaway PostgreSQL cluster as an unprivileged user (PostgreSQL refuses to run as root).
# Source it; it defines functions only.

PG_OS_USER_DEFAULT=pgmcp-postgres

log() { printf '%s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else log "need root to run: $*"; return 1
  fi
}

pg_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(readlink -f "$(command -v initdb)")"; return 0; }
  return 1
}

# Installs libpq-dev, libpg-query-dev, zlib1g-dev, the PostgreSQL server and pkg-config with apt when any is missing;
# with --python also python3 and its venv module (the tests' Python MCP client needs them).
# With --scaleout also PgBouncer, HAProxy and psql (the scale-out topology, scripts/lib/scaleout.sh);
# Debian starts neither as a service here (no systemd in containers), and where it does, the units
# are left alone: the topology runs its own. One apt run for all of it.
ensure_packages() {
  local missing=() option
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
  # zlib: AsyncHTTPClient (the OAuth key fetch) links it; the release build links its static library.
  pkg-config --exists zlib 2>/dev/null || missing+=(zlib1g-dev)
  # PostgreSQL's parser as a library: pgmcp checks statements with it before sending them.
  [ -f /usr/include/pg_query.h ] || missing+=(libpg-query-dev)
  pg_bindir >/dev/null || missing+=(postgresql)
  for option in "$@"; do
    case "$option" in
      --python)
        # The OAuth tests make an RSA key for their RS256 issuer with it.
        command -v openssl >/dev/null 2>&1 || missing+=(openssl)
        command -v python3 >/dev/null 2>&1 || missing+=(python3)
        python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
        ;;
      --scaleout)
        export PATH="$PATH:/usr/sbin"
        command -v pgbouncer >/dev/null 2>&1 || missing+=(pgbouncer)
        command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
        command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
        ;;
    esac
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "==> installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  pg_bindir >/dev/null || { log "PostgreSQL server binaries not found after install"; return 1; }
  ensure_hypopg
}

# hypopg (hypothetical indexes, for suggest_indexes) is built per server version: its package name
# follows the server found above, so it is installed in a run of its own once the server is there.
# pg_stat_statements needs nothing: Debian's server package carries the contrib modules.
ensure_hypopg() {
  local bin major
  bin=$(pg_bindir)
  major=$("$bin/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
  [ -f "/usr/share/postgresql/$major/extension/hypopg.control" ] && return 0
  log "==> installing postgresql-$major-hypopg"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$major-hypopg" >/dev/null
}

# The server options every throwaway cluster runs with: on loopback only, without durability (the
# data is thrown away), and with pg_stat_statements loaded (top_queries and suggest_indexes read it).
cluster_options() {
  echo "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_preload_libraries=pg_stat_statements"
}

# The OS user that owns and runs the cluster: ourselves, or (as root) an unprivileged one.
pg_os_user() {
  if [ "$(id -u)" != 0 ]; then id -un; return; fi
  if ! id "$PG_OS_USER_DEFAULT" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER_DEFAULT" 2>/dev/null \
      || adduser --system --no-create-home "$PG_OS_USER_DEFAULT" >/dev/null
  fi
  echo "$PG_OS_USER_DEFAULT"
}

# Runs a command as the cluster's OS user.
as_pg() {
  local user; user=$(pg_os_user)
  if [ "$(id -un)" = "$user" ]; then "$@"
  else runuser -u "$user" -- "$@"
  fi
}

# A port nothing listens on, below Linux's ephemeral range (32768 and up by default): a port
# there may be the local end of some client's connection a moment later, and a server can then
# not bind it (seen after a load test's connection churn).
# Whether something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# 36 hex digits from the system's random source: passwords of throwaway clusters.
random_secret() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

free_port() {
  local port
  for _ in $(seq 50); do
    port=$(( 10000 + RANDOM % 22000 ))
    port_open "$port" || { echo "$port"; return; }
  done
  return 1
}

# start_cluster DIR [PORT]: initdb in DIR/data with a random superuser password (TCP: scram),
# start on PORT (default: a free one) listening on 127.0.0.1 only, socket in DIR.
# Sets PG_DIR PG_PORT PG_PASSWORD PG_BIN PG_USER.
start_cluster() {
  PG_DIR=$1
  PG_PORT=${2:-$(free_port)}
  PG_BIN=$(pg_bindir)
  PG_USER=postgres
  local owner; owner=$(pg_os_user)
  mkdir -p "$PG_DIR"
  chown "$owner" "$PG_DIR"
  chmod 700 "$PG_DIR"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    PG_PASSWORD=$(random_secret)
    printf '%s\n' "$PG_PASSWORD" > "$PG_DIR/password"
    chown "$owner" "$PG_DIR/password"
    chmod 600 "$PG_DIR/password"
    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" --pwfile="$PG_DIR/password" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync >"$PG_DIR/initdb.log" 2>&1 \
      || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  fi
  PG_PASSWORD=$(cat "$PG_DIR/password")
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_DIR $(cluster_options)" \
    start >/dev/null || { tail -n 30 "$PG_DIR/postgres.log" >&2; return 1; }
  echo "$PG_PORT" > "$PG_DIR/port"
}

stop_cluster() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_pg "$(pg_bindir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# Exports what the tests read to reach the cluster (see Tests/TestSupport/TestDatabase.swift).
export_test_env() {
  export PGMCP_TEST_HOST=127.0.0.1
  export PGMCP_TEST_PORT=$PG_PORT
  export PGMCP_TEST_USER=$PG_USER
  export PGMCP_TEST_PASSWORD=$PG_PASSWORD
  export PGMCP_TEST_DATABASE=postgres
  export PGMCP_TEST_PGDATA=$PG_DIR/data
  export PGMCP_TEST_PG_BIN=$PG_BIN
  export PGMCP_TEST_PG_OS_USER; PGMCP_TEST_PG_OS_USER=$(pg_os_user)
  export PGMCP_TEST_PG_LOG=$PG_DIR/postgres.log
}
