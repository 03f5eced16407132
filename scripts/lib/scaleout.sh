# The scale-out topology on loopback (docs/scale-out.md): PostgreSQL, PgBouncer in transaction
# mode in front of it, N pgmcp replicas, and HAProxy routing /mcp to them by the replica prefix of
# the session. Shared by scripts/cluster-demo, the tests (through it) and scripts/bench.
# Source it after scripts/lib/postgres.sh; it defines functions only.
#
# Every process runs in the background with its PID in DIR/*.pid, and scaleout_stop stops exactly
# those (never by name), so nothing else on the machine is touched and nothing is left behind.

# Waits until something accepts TCP connections on 127.0.0.1:PORT (at most ~15 s).
# On failure, LOG (when given) says why.
wait_for_port() {
  local port=$1 name=$2 logfile=${3:-}
  for _ in $(seq 150); do
    port_open "$port" && return 0
    sleep 0.1
  done
  log "$name did not start listening on 127.0.0.1:$port"
  [ -n "$logfile" ] && [ -f "$logfile" ] && tail -n 20 "$logfile" >&2
  return 1
}

# scaleout_start DIR BINARY [REPLICAS] [BUDGET]
# The replicas inherit the caller's PGMCP_* settings; PGMCP_CLUSTER_DB_CONFIGS replaces their
# database entries (the role is pgmcp, its password in PGMCP_APP_PASSWORD).
# Starts PostgreSQL (its own, in DIR/pg), PgBouncer, REPLICAS pgmcp replicas (default 2) and
# HAProxy. BUDGET (default 10) is how many server connections PostgreSQL gives pgmcp's database.
# Writes DIR/cluster.env (ports, URLs, role password) for whoever drives the cluster.
scaleout_start() {
  local dir=$1 binary=$2 replicas=${3:-2} budget=${4:-10}
  local owner; owner=$(pg_os_user)
  # Passwords go into files here (PgBouncer's userlist, cluster.env): nothing is readable by
  # others from the moment it is written. The folder itself only lets the cluster's user through.
  umask 077
  mkdir -p "$dir" || return 1
  touch "$dir/.pgmcp-cluster"
  chmod 711 "$dir"

  start_cluster "$dir/pg" || return 1
  local role_password; role_password=$(random_secret)
  # The role pgmcp uses: no superuser, a connection limit just above the budget (PostgreSQL's own
  # fence, should anything bypass PgBouncer; the margin lets PgBouncer reconnect while a closed
  # backend is still exiting), and a database of its own with a little data.
  PGPASSWORD=$PG_PASSWORD psql -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL || return 1
CREATE ROLE pgmcp LOGIN PASSWORD '$role_password' CONNECTION LIMIT $((budget + 2));
CREATE DATABASE app OWNER pgmcp;
SQL
  PGPASSWORD=$role_password psql -q -h 127.0.0.1 -p "$PG_PORT" -U pgmcp -d app -v ON_ERROR_STOP=1 >/dev/null <<SQL || return 1
CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO notes (body) SELECT 'note ' || n FROM generate_series(1, 100) AS n;
SQL

  # PgBouncer, in transaction mode, as the cluster's unprivileged user (it refuses to run as root).
  local bouncer_port; bouncer_port=$(free_port)
  mkdir -p "$dir/pgbouncer"
  printf '"pgmcp" "%s"\n"%s" "%s"\n' "$role_password" "$PG_USER" "$PG_PASSWORD" > "$dir/pgbouncer/userlist.txt"
  cat > "$dir/pgbouncer/pgbouncer.ini" <<INI
[databases]
app = host=127.0.0.1 port=$PG_PORT dbname=app

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/pgbouncer/userlist.txt
admin_users = $PG_USER
pool_mode = transaction
; The budget: PostgreSQL never sees more than this many connections to app, however many
; replicas and client connections there are (see docs/scale-out.md).
max_db_connections = $budget
default_pool_size = $budget
reserve_pool_size = 0
max_client_conn = 2000
; A client waiting longer than this for a server connection gets an error (pgmcp's own
; PGMCP_ACQUIRE_TIMEOUT and statement deadline are shorter; this is the last resort).
query_wait_timeout = 60
; Transaction mode runs no reset query between clients; pgmcp leaves every server connection
; clean at the end of each of its own transactions.
server_reset_query =
server_check_delay = 10
pidfile = $dir/pgbouncer/pgbouncer.pid
logfile = $dir/pgbouncer/pgbouncer.log
INI
  chown -R "$owner" "$dir/pgbouncer"
  as_pg pgbouncer -d "$dir/pgbouncer/pgbouncer.ini" || { cat "$dir/pgbouncer/pgbouncer.log" >&2 2>/dev/null; return 1; }
  wait_for_port "$bouncer_port" PgBouncer "$dir/pgbouncer/pgbouncer.log" || return 1

  # The replicas: the same configuration, each its own id and port.
  local configs
  configs=$(cat <<JSON
[{"id": "app", "name": "App (read-write)", "host": "127.0.0.1", "port": $bouncer_port, "database": "app", "user": "pgmcp",
  "passwordEnv": "PGMCP_APP_PASSWORD", "readOnly": false, "pooling": "transaction", "pool": {"max": 8}},
 {"id": "app_ro", "name": "App (read-only)", "host": "127.0.0.1", "port": $bouncer_port, "database": "app", "user": "pgmcp",
  "passwordEnv": "PGMCP_APP_PASSWORD", "pooling": "transaction", "pool": {"max": 4}}]
JSON
)
  # Tests serve entries of their own: @BOUNCER_PORT@ in them becomes PgBouncer's port.
  if [ -n "${PGMCP_CLUSTER_DB_CONFIGS:-}" ]; then configs=${PGMCP_CLUSTER_DB_CONFIGS//@BOUNCER_PORT@/$bouncer_port}; fi
  local servers="" rules="" ports=""
  for n in $(seq "$replicas"); do
    local port; port=$(free_port)
    # Only these entries: a configuration source of the caller's (a file, DB_CONFIG_* variables,
    # DATABASE_URL) would take precedence or be warned about, and could bypass PgBouncer.
    env $(compgen -e | grep -E '^(DB_CONFIG_|DB_CONFIGS_FILE$|DATABASE_URL$|DB_DEFAULT_CONFIG$)' | sed 's/^/-u /') \
      PGMCP_REPLICA_ID="r$n" PGMCP_HOST=127.0.0.1 PGMCP_PORT=$port PGMCP_MAX_SESSIONS=5000 \
      PGMCP_APP_PASSWORD="$role_password" DB_CONFIGS="$configs" \
      nohup "$binary" serve --transport http > "$dir/replica-r$n.log" 2>&1 &
    echo $! > "$dir/replica-r$n.pid"
    wait_for_port "$port" "replica r$n" "$dir/replica-r$n.log" || return 1
    servers+="    server r$n 127.0.0.1:$port check inter 500ms fall 3 rise 2"$'\n'
    rules+="    use-server r$n if { var(txn.replica) -m str r$n }"$'\n'
    ports+="r$n=$port "
  done

  # HAProxy: sticky by the session's replica prefix, round-robin for the rest. Its connection limit
  # fits the open-file limit (raised to the hard limit where allowed): HAProxy refuses to start
  # when it cannot have the descriptors its maxconn needs.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  local files; files=$(ulimit -n)
  [ "$files" = unlimited ] && files=1048576
  local maxconn=$(( (files - 200) / 2 ))
  [ "$maxconn" -gt 10000 ] && maxconn=10000
  local router_port; router_port=$(free_port)
  cat > "$dir/haproxy.cfg" <<CFG
global
    # Two descriptors per connection (client and replica): within the open-file limit we have.
    maxconn $maxconn
    log stderr format short local0 warning

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    # Long enough for a statement under the longest statementTimeoutMs, and for a 2025-era GET stream.
    timeout client 10m
    timeout server 10m
    timeout http-request 30s
    # An idle client connection is kept as long as a call may take: closing it under a client
    # that is about to reuse it makes that request fail (408) for nothing.
    timeout http-keep-alive 10m
    # A client that gives up (a timeout, a cancelled call) closes its connection: pass that on,
    # so the replica cancels the statement in PostgreSQL instead of running it to the end.
    option abortonclose
    # A replica that refuses the connection (it died) is given up for another: the request then
    # meets a replica that does not know its session and answers 404, and the client starts over.
    # Only connection failures are retried: a request that reached a replica is never sent twice.
    # Connections to the replicas are kept alive and reused (http-reuse safe: a client's first
    # request never rides a connection another client used). A new one per request
    # (option http-server-close) cost a third of the router's throughput in scripts/bench.
    option redispatch
    retries 2

frontend mcp
    bind 127.0.0.1:$router_port
    # Read the body too (up to tune.bufsize): a 2026-07-28 call may name its session only there.
    option http-buffer-request
    # The work session a request belongs to: the 2025 transport session, else the 2026 handle
    # (header, else the tools/call argument). Its prefix before the first '.' names the replica.
    http-request set-var(txn.session) req.hdr(mcp-session-id)
    http-request set-var(txn.session) req.hdr(mcp-param-session) if !{ var(txn.session) -m found }
    http-request set-var(txn.session) req.body,json_query('$.params.arguments.session') if !{ var(txn.session) -m found }
    http-request set-var(txn.replica) var(txn.session),field(1,.) if { var(txn.session) -m found }
    default_backend replicas

backend replicas
    balance roundrobin
$rules
    # A replica is out after 3 failed checks (1.5 s; each may take up to 2 s on a loaded machine),
    # back after 2. /healthz, not /readyz: a database outage must not take every replica out.
    option httpchk GET /healthz
    http-check expect status 200
    timeout check 2s
$servers
CFG
  haproxy -c -q -f "$dir/haproxy.cfg" || return 1
  nohup haproxy -db -f "$dir/haproxy.cfg" > "$dir/haproxy.log" 2>&1 &
  echo $! > "$dir/haproxy.pid"
  wait_for_port "$router_port" HAProxy "$dir/haproxy.log" || return 1

  cat > "$dir/cluster.env" <<ENV || return 1
ROUTER_URL=http://127.0.0.1:$router_port/mcp
ROUTER_PORT=$router_port
REPLICA_PORTS="$ports"
BOUNCER_PORT=$bouncer_port
PG_PORT=$PG_PORT
PG_USER=$PG_USER
PG_PASSWORD=$PG_PASSWORD
APP_PASSWORD=$role_password
BUDGET=$budget
REPLICAS=$replicas
ENV
}

# Whether PID runs: exists and is not a zombie (an exited process its parent, here whatever
# adopted it, has not reaped yet).
running() {
  [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# Stops a process by the PID in FILE: SIGTERM, then SIGKILL after 10 s.
stop_pidfile() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(head -n 1 "$file")
  if running "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}

# scaleout_stop DIR: the router, the replicas, PgBouncer, PostgreSQL, then the folder; only a
# folder scaleout_start made (it holds .pgmcp-cluster).
scaleout_stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ ! -f "$dir/.pgmcp-cluster" ]; then
    log "$dir was not made by scripts/cluster-demo start: left alone"
    return 1
  fi
  stop_pidfile "$dir/haproxy.pid"
  for file in "$dir"/replica-*.pid; do stop_pidfile "$file"; done
  stop_pidfile "$dir/pgbouncer/pgbouncer.pid"
  stop_cluster "$dir/pg"
  rm -rf "$dir"
}
