#!/usr/bin/env python3
"""Runs every benchmark case of BENCHMARKS.md and prints one table of medians and same-run ratios.

Called by scripts/bench, which installs what is needed, builds pgmcp in release mode and starts a
PostgreSQL cluster. Standard library only.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}

parser = argparse.ArgumentParser()
parser.add_argument("--pgmcp", required=True)
parser.add_argument("--pg-bin", required=True)
parser.add_argument("--pg-port", type=int, required=True)
parser.add_argument("--pg-password", required=True)
parser.add_argument("--work", required=True)
parser.add_argument("--peer", default="")
parser.add_argument("--quick", action="store_true")
parser.add_argument("--compare", default="",
                    help="label=binary,label=binary…: only the hot path (query SELECT 1 at 8 sessions over HTTP), "
                         "each binary in turn, rounds alternating their order: a before/after pair in one run")
options = parser.parse_args()

DURATION = 2 if options.quick else 5
REPEATS = 1 if options.quick else 3
SESSIONS = 2000 if options.quick else 10000
CONCURRENCY = [1, 8, 32]


def log(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def psql(sql, database="postgres"):
    return subprocess.run(
        [f"{options.pg_bin}/psql", "-h", "127.0.0.1", "-p", str(options.pg_port), "-U", "postgres", "-d", database,
         "-v", "ON_ERROR_STOP=1", "-qtAc", sql],
        check=True, capture_output=True, text=True).stdout.strip()


def database_entry(name, database):
    return {"id": name, "host": "127.0.0.1", "port": options.pg_port, "database": database, "user": "postgres",
            "passwordEnv": "BENCH_PG_PASSWORD", "statementTimeoutMs": 60000, "maxRows": 100000,
            "pool": {"max": 10}, "privilegeCheck": "warn"}


class Server:
    """A pgmcp serve process on a free port, configured with `databases`."""

    def __init__(self, databases, binary=None, **settings):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PGMCP_", "DB_CONFIG"))}
        env.update({"BENCH_PG_PASSWORD": options.pg_password, "DB_CONFIGS": json.dumps(databases),
                    "PGMCP_PORT": str(self.port), "PGMCP_LOG_LEVEL": "warning", "PGMCP_MAX_SESSIONS": "20000",
                    "PGMCP_SESSION_MAX_CONNECTIONS": "2"})
        env.update({k: str(v) for k, v in settings.items()})
        self.started = time.monotonic()
        self.process = subprocess.Popen([binary or options.pgmcp, "serve"], env=env, stdout=subprocess.DEVNULL,
                                        stderr=open(f"{options.work}/pgmcp-{self.port}.log", "w"))
        self.ready_after = wait_healthy(self.port)

    def cpu_seconds(self):
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def memory(self, key="VmRSS"):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port, timeout=30):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"pgmcp on {port} did not become healthy")


class MCPSession:
    """One MCP session over a persistent HTTP connection."""

    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}
        self.connection.request("POST", "/mcp", json.dumps(body), MCP_HEADERS)
        response = self.connection.getresponse()
        response.read()
        self.id = response.getheader("Mcp-Session-Id")
        self.next = 1

    def call(self, tool, arguments):
        self.next += 1
        body = {"jsonrpc": "2.0", "id": self.next, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
        headers = dict(MCP_HEADERS, **{"Mcp-Session-Id": self.id, "MCP-Protocol-Version": "2025-06-18"})
        self.connection.request("POST", "/mcp", json.dumps(body), headers)
        response = self.connection.getresponse()
        data = response.read()
        result = json.loads(data)
        return result.get("result", {}), response.status

    def delete(self):
        self.connection.request("DELETE", "/mcp", headers={"Mcp-Session-Id": self.id})
        self.connection.getresponse().read()


def pgbench(script, clients):
    path = f"{options.work}/{script}.sql"
    with open(path, "w") as f:
        f.write("SELECT 1;\n" if script == "select1" else
                "\\set aid random(1, 100000)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n")
    out = subprocess.run(
        [f"{options.pg_bin}/pgbench", "-n", "-M", "extended", "-h", "127.0.0.1", "-p", str(options.pg_port), "-U", "postgres",
         "-c", str(clients), "-j", str(min(clients, 4)), "-T", str(DURATION), "-f", path, "bench"],
        check=True, capture_output=True, text=True).stdout
    tps = next(float(line.split("=")[1].split()[0]) for line in out.splitlines() if line.startswith("tps"))
    latency = next(float(line.split("=")[1].split()[0]) for line in out.splitlines() if "latency average" in line)
    return tps, latency


def wrk(port, script, clients, mode=""):
    url = f"http://127.0.0.1:{port}/mcp" if mode else f"http://127.0.0.1:{port}/healthz"
    args = ["wrk", "-t", str(clients), "-c", str(clients), "-d", f"{DURATION}s", "--timeout", "30s", "-s", f"{HERE}/{script}", url]
    if mode:
        args += ["--", mode]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT"))
    rps, p50, p95, p99, requests, errors = line.split()[1:]
    return float(rps), float(p50) / 1000, float(p95) / 1000, float(p99) / 1000, int(requests), int(errors)


def measured(server, clients, mode):
    """One wrk run of MCP calls against `server`: wrk's result, with the server's CPU per call (µs) appended."""
    cpu0 = server.cpu_seconds()
    result = wrk(server.port, "mcp_call.lua", clients, mode)
    return result + ((server.cpu_seconds() - cpu0) / max(1, result[4]) * 1e6,)


def median(values):
    return statistics.median(values)


rows = []


def row(case, value, baseline="", ratio="", note=""):
    rows.append((case, value, baseline, ratio, note))


def throughput():
    log("throughput: pgbench, pgmcp, and the load generator's ceiling")
    server = Server([database_entry("bench", "bench")])
    for script, title in (("select1", "SELECT 1"), ("pk", "PK lookup (100k rows)")):
        for clients in CONCURRENCY:
            base = [pgbench(script, clients) for _ in range(REPEATS)]
            base_tps = median([b[0] for b in base])
            runs = []
            for _ in range(REPEATS):
                runs.append(measured(server, clients, script))
            rps = median([r[0] for r in runs])
            p50, p95, p99 = median([r[1] for r in runs]), median([r[2] for r in runs]), median([r[3] for r in runs])
            cpu_per_call = median([r[6] for r in runs])
            errors = sum(r[5] for r in runs)
            row(f"{title}, {clients} session{'s' if clients > 1 else ''}: calls/s",
                f"{rps:,.0f}", f"pgbench {base_tps:,.0f} tps", f"{rps / base_tps:.1%}",
                f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms; server CPU {cpu_per_call:.0f} µs/call; {errors} errors")
    for clients in CONCURRENCY:
        ceiling = median([wrk(server.port, "plain.lua", clients)[0] for _ in range(REPEATS)])
        row(f"load generator ceiling (GET /healthz), {clients} conn.", f"{ceiling:,.0f} req/s")
    server.stop()


def parser_check():
    """The statement check on PostgreSQL's parser: a text seen before (cached outcome) against one never
    seen (parsed), the same shape of statement, at 8 sessions; the difference in server CPU per call is
    what an uncached check costs."""
    log("statement check: cached against uncached")
    server = Server([database_entry("bench", "bench")])
    runs = {"same": [], "unique": []}
    # Alternated, at least three of each even in a quick run: the difference is a few µs in ~180.
    for _ in range(max(REPEATS, 3)):
        for mode in ("same", "unique"):
            result = measured(server, 8, mode)
            runs[mode].append((result[0], result[6]))
    cpu = {mode: (median([r[0] for r in rs]), median([r[1] for r in rs])) for mode, rs in runs.items()}
    (same_rps, same_cpu), (unique_rps, unique_cpu) = cpu["same"], cpu["unique"]
    row("statement check, 8 sessions: a new text each call (parsed)", f"{unique_rps:,.0f} calls/s, {unique_cpu:.0f} µs CPU/call",
        f"the same text each call (cached): {same_rps:,.0f} calls/s, {same_cpu:.0f} µs CPU/call", f"{unique_rps / same_rps:.1%}",
        f"an uncached check costs about {unique_cpu - same_cpu:.0f} µs of server CPU")
    server.stop()


def peer_comparison():
    log("peer: postgres-mcp vs pgmcp, both over stdio")
    if not options.peer:
        row("postgres-mcp peer", "not run", note="postgres-mcp does not install here (see BENCHMARKS.md)")
        return
    url = f"postgresql://postgres:{options.pg_password}@127.0.0.1:{options.pg_port}/bench"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PGMCP_", "DB_CONFIG"))}
    env["DATABASE_URL"] = url
    results = {}
    try:
        for name, command, tool in (("pgmcp", [options.pgmcp, "serve", "--transport", "stdio"], "query"),
                                    ("postgres-mcp", [options.peer, url], "query")):
            for sessions in (1, 8):
                results[(name, sessions)] = stdio_load(command, env, tool, sessions)
    except RuntimeError as error:
        row("postgres-mcp peer", "failed", note=str(error))
        return
    for sessions in (1, 8):
        ours, theirs = results[("pgmcp", sessions)], results[("postgres-mcp", sessions)]
        row(f"stdio SELECT 1, {sessions} session{'s' if sessions > 1 else ''}: pgmcp calls/s", f"{ours[0]:,.0f}",
            f"postgres-mcp {theirs[0]:,.0f}", f"{ours[0] / max(theirs[0], 1e-9):.1f}×",
            f"p99 {ours[2]:.2f} ms vs {theirs[2]:.2f} ms ({theirs[2] / max(ours[2], 1e-9):.1f}× lower)")


def stdio_load(command, env, tool, sessions):
    """`sessions` processes, each driven by one thread sending tools/call as fast as it answers."""
    latencies = []
    lock = threading.Lock()
    deadline = [0.0]
    calls = [0]

    def drive():
        try:
            run_session()
        except Exception as error:
            failures.append(error)
            barrier.abort()

    def run_session():
        errors = open(f"{options.work}/stdio-{os.path.basename(command[0])}.log", "a")
        process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1)

        def send(message):
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()

        def receive(expected_id):
            while True:
                line = process.stdout.readline()
                if not line:
                    raise RuntimeError("stdio server exited")
                message = json.loads(line)
                if message.get("id") == expected_id:
                    return message

        send({"jsonrpc": "2.0", "id": 0, "method": "initialize",
              "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
        receive(0)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        mine = []
        n = 0
        barrier.wait()
        while time.monotonic() < deadline[0]:
            n += 1
            started = time.perf_counter()
            send({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": tool, "arguments": {"sql": "SELECT 1"}}})
            receive(n)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            calls[0] += len(mine)
        process.stdin.close()
        process.wait(timeout=20)

    failures = []
    barrier = threading.Barrier(sessions + 1)
    threads = [threading.Thread(target=drive) for _ in range(sessions)]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + DURATION + 30  # set properly once everyone is ready
    try:
        barrier.wait(timeout=60)
    except threading.BrokenBarrierError:
        pass
    deadline[0] = time.monotonic() + DURATION
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"{command[0]}: {failures[0]} (see {options.work}/stdio-*.log)")
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    return calls[0] / DURATION, pick(0.5), pick(0.99)


def sessions_at_scale():
    log(f"{SESSIONS:,} sessions over 3 databases")
    databases = [database_entry(f"db{i}", f"bench{i}") for i in (1, 2, 3)]
    server = Server(databases, PGMCP_SESSION_IDLE_TIMEOUT=3600)
    warm = MCPSession(server.port)
    for i in (1, 2, 3):
        warm.call("query", {"sql": "SELECT 1", "database": f"db{i}"})
    warm.delete()
    time.sleep(0.5)
    before = server.memory()
    started = time.monotonic()
    errors = [0]
    sessions = []
    lock = threading.Lock()

    def open_one(i):
        try:
            session = MCPSession(server.port)
            result, status = session.call("query", {"sql": "SELECT 1", "database": f"db{1 + i % 3}"})
            if status != 200 or result.get("isError"):
                raise RuntimeError(result)
            session.connection.close()
            with lock:
                sessions.append(session)
        except Exception:
            with lock:
                errors[0] += 1

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(open_one, range(SESSIONS)))
    elapsed = time.monotonic() - started
    during = server.memory()
    backends = int(psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pgmcp/%'"))
    row(f"{SESSIONS:,} sessions, 3 databases: time to open all", f"{elapsed:.1f} s", note=f"{SESSIONS / elapsed:,.0f} sessions/s; {errors[0]} errors")
    row(f"{SESSIONS:,} sessions: server RSS", f"{during / 2**20:.1f} MB", f"{before / 2**20:.1f} MB before", f"+{(during - before) / 2**20:.1f} MB")
    row(f"{SESSIONS:,} sessions: PostgreSQL backends", str(backends), "pools' max sum 30")

    def end(session):
        session.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        session.delete()
        session.connection.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(end, sessions))
    time.sleep(2)
    after = server.memory()
    backends_after = int(psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pgmcp/%'"))
    row("after ending them all: server RSS", f"{after / 2**20:.1f} MB", f"{before / 2**20:.1f} MB before", f"{(after - before) / before:+.1%}",
        f"{backends_after} pooled backends left (idle, until the idle timeout)")
    server.stop()


def large_results():
    log("large results")
    server = Server([database_entry("bench", "bench")], PGMCP_MAX_RESULT_BYTES=4 * 2**20)
    session = MCPSession(server.port)
    session.call("query", {"sql": "SELECT 1"})
    time.sleep(0.3)
    before = server.memory("VmHWM")
    result, _ = session.call("query", {"sql": "SELECT * FROM big", "max_rows": 1000})
    assert result["structuredContent"]["rowCount"] == 1000, result
    growth = server.memory("VmHWM") - before
    row("SELECT * FROM 1M-row table, max_rows 1000: peak RSS growth", f"{growth / 2**20:.1f} MB", note=f"truncated: {result['structuredContent']['truncated']}")
    rss0 = server.memory()
    peak = rss0
    for _ in range(20):
        result, _ = session.call("query", {"sql": "SELECT repeat('x', 2000000) AS blob"})
        assert not result.get("isError"), result
        peak = max(peak, server.memory())
    time.sleep(1)
    row("twenty 2 MB results in one session: RSS during (peak)", f"{peak / 2**20:.1f} MB", f"{rss0 / 2**20:.1f} MB before")
    row("… and after", f"{server.memory() / 2**20:.1f} MB", note="no response is kept after it is sent")
    server.stop()


def scale_out():
    """Calls/s through HAProxy to two replicas (PgBouncer in front of PostgreSQL) against one of
    those replicas called directly, in the same run (docs/scale-out.md)."""
    log("scale-out: scripts/cluster-demo topology, router against one replica direct")
    root = os.path.dirname(os.path.dirname(HERE))
    directory = f"{options.work}/cluster"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PGMCP_", "DB_CONFIG"))}
    env["PGMCP_CLUSTER_BINARY"] = options.pgmcp
    started = subprocess.run([f"{root}/scripts/cluster-demo", "start", directory], env=env, capture_output=True, text=True)
    if started.returncode != 0:
        log(f"scale-out skipped: scripts/cluster-demo start failed:\n{started.stderr[-3000:]}")
        row("SELECT 1 through HAProxy to 2 replicas", "not measured", note="scripts/cluster-demo start failed (see the log)")
        return
    try:
        values = {}
        with open(f"{directory}/cluster.env") as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                values[key] = value.strip('"')
        router = int(values["ROUTER_PORT"])
        direct = int(dict(pair.split("=") for pair in values["REPLICA_PORTS"].split())["r1"])
        for clients in (8, 32):
            direct_runs = [wrk(direct, "mcp_call.lua", clients, "select1") for _ in range(REPEATS)]
            router_runs = [wrk(router, "mcp_call.lua", clients, "select1") for _ in range(REPEATS)]
            direct_rps, router_rps = median([r[0] for r in direct_runs]), median([r[0] for r in router_runs])
            p50 = median([r[1] for r in router_runs])
            errors = sum(r[5] for r in router_runs + direct_runs)
            row(f"SELECT 1 through HAProxy to 2 replicas, {clients} sessions: calls/s", f"{router_rps:,.0f}",
                f"one replica direct {direct_rps:,.0f}", f"{router_rps / direct_rps:.1%}",
                f"both through PgBouncer (transaction mode, 10 server connections); router p50 {p50:.2f} ms; {errors} errors")
    finally:
        subprocess.run([f"{root}/scripts/cluster-demo", "stop", directory], env=env, capture_output=True)


def startup():
    log("start-up")
    databases = [database_entry(f"db{i}", f"bench{i}") for i in (1, 2, 3)]
    times = []
    for _ in range(5 if not options.quick else 3):
        server = Server(databases)
        times.append(server.ready_after)
        server.stop()
    row("start-up to /healthz 200, 3 databases", f"{median(times) * 1000:.0f} ms", note=f"median of {len(times)}")


def prepare():
    log("preparing databases (pgbench -i, a 1M-row table)")
    for name in ("bench", "bench1", "bench2", "bench3"):
        psql(f"DROP DATABASE IF EXISTS {name}")
        psql(f"CREATE DATABASE {name}")
    subprocess.run([f"{options.pg_bin}/pgbench", "-i", "-q", "-s", "1", "-h", "127.0.0.1", "-p", str(options.pg_port), "-U", "postgres", "bench"],
                   check=True, capture_output=True)
    psql("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, g * 2 AS b, now() AS c FROM generate_series(1, 1000000) g", "bench")
    psql("VACUUM ANALYZE", "bench")


class SyscallCount:
    """The server's system calls during a run, counted by `perf stat` where it can (perf installed,
    tracepoints readable): unlike CPU time, a count per call does not move with the machine's load,
    so a before/after pair shows a change of a few percent that the CPU medians cannot."""

    def __init__(self, pid):
        self.process = None
        if shutil.which("perf"):
            self.process = subprocess.Popen(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-p", str(pid)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(0.3)  # attached before the run starts

    def stop(self):
        """The count, or None where perf could not count."""
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=20)
        for line in err.splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[2].startswith("raw_syscalls:sys_enter") and fields[0].isdigit():
                return int(fields[0])
        return None


def postgres_cpu_seconds():
    """CPU of the cluster's processes (postmaster and every backend alive now): PostgreSQL shares
    the machine's cores with the server, so what it spends per call moves the server's own figure."""
    try:
        with open(f"{options.work}/pg/data/postmaster.pid") as f:
            postmaster = int(f.readline())
    except (OSError, ValueError):
        return None
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == postmaster or int(fields[1]) == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def compare():
    """The hot path of each binary in turn, in rounds whose order alternates, so that a slow minute of
    the machine does not fall on one binary only: calls/s, the server's CPU per call and its system
    calls per call (medians)."""
    binaries = [entry.split("=", 1) for entry in options.compare.split(",")]
    rounds = 3 if options.quick else int(os.environ.get("PGMCP_BENCH_ROUNDS", "7"))
    results = {label: [] for label, _ in binaries}
    for round_number in range(rounds):
        order = binaries if round_number % 2 == 0 else list(reversed(binaries))
        for label, binary in order:
            log(f"compare: round {round_number + 1} of {rounds}, {label}")
            server = Server([database_entry("bench", "bench")], binary=binary)
            wrk(server.port, "mcp_call.lua", 8, "select1")  # warm-up: pools filled, code paged in
            syscalls = SyscallCount(server.process.pid)
            postgres0 = postgres_cpu_seconds()
            result = measured(server, 8, "select1")
            postgres1 = postgres_cpu_seconds()
            counted = syscalls.stop()
            postgres = (postgres1 - postgres0) / max(1, result[4]) * 1e6 if postgres0 is not None and postgres1 is not None else None
            results[label].append((result[0], result[6], result[5], counted / max(1, result[4]) if counted else None, postgres))
            server.stop()
    print(f"\n## hot path, query SELECT 1 at 8 sessions over HTTP ({rounds} rounds, {DURATION} s each, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)\n")
    # Each round runs every binary back to back, so a binary's CPU over the first one's in the same
    # round cancels what the machine did that minute: the median of those ratios resolves a change
    # of a few percent where the medians of the CPU figures (which move 10% between rounds) cannot.
    baseline = [r[1] for r in results[binaries[0][0]]]
    print(f"| build | calls/s (median) | server CPU µs/call (median) | CPU range | CPU / {binaries[0][0]}'s, same round (median, range) | system calls/call | PostgreSQL CPU µs/call | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for label, _ in binaries:
        runs = results[label]
        cpus = [r[1] for r in runs]
        ratios = [cpu / base for cpu, base in zip(cpus, baseline) if base]
        counts = [r[3] for r in runs if r[3] is not None]
        syscalls = f"{median(counts):.2f}" if counts else "— (no perf)"
        paired = f"{median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f})" if ratios else "—"
        postgres = [r[4] for r in runs if r[4] is not None]
        postgres_text = f"{median(postgres):.0f}" if postgres else "—"
        print(f"| {label} | {median([r[0] for r in runs]):,.0f} | {median(cpus):.0f} | {min(cpus):.0f}–{max(cpus):.0f} | {paired} | {syscalls} | {postgres_text} | {sum(r[2] for r in runs)} |")

prepare()
if options.compare:
    compare()
    sys.exit(0)
throughput()
parser_check()
peer_comparison()
sessions_at_scale()
large_results()
scale_out()
startup()

print(f"\n## pgmcp benchmarks ({'quick' if options.quick else 'full'} run, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)\n")
print("| case | pgmcp | baseline (same run) | ratio | notes |")
print("|---|---|---|---|---|")
for case, value, baseline, ratio, note in rows:
    print(f"| {case} | {value} | {baseline} | {ratio} | {note} |")
