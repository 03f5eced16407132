"""pgmcp as the installed unit runs it, for test_deb.py: the unit's user, its environment file, its
command; an MCP client over HTTP; and the unit's system call filter, expanded."""
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.request

from conftest import run

UNIT = pathlib.Path("/usr/lib/systemd/system/pgmcp.service")
ENV = pathlib.Path("/etc/pgmcp/pgmcp.env")


def environment():
    """The environment file as systemd reads it: KEY=value lines, comments skipped."""
    pairs = (line.split("=", 1) for line in ENV.read_text().splitlines() if "=" in line and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def as_service(command):
    """Popen arguments for `command` as the unit runs ExecStart: user and group pgmcp and no other
    group, the environment file's variables and nothing else; no shell or runuser in between."""
    return {"args": command, "env": environment(), "user": "pgmcp", "group": "pgmcp", "extra_groups": []}


def run_as_service(command):
    options = as_service(command)
    return run(options.pop("args"), check=False, **options)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HTTPClient:
    """Just enough MCP over Streamable HTTP (2025-06-18) to initialize and call a tool."""

    def __init__(self, port):
        self.url = f"http://127.0.0.1:{port}/mcp"
        self.session = None

    def post(self, message):
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
        if self.session:
            headers["Mcp-Session-Id"] = self.session
        request = urllib.request.Request(self.url, data=json.dumps(message).encode(), headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            self.session = response.headers.get("Mcp-Session-Id", self.session)
            body = response.read()
            return json.loads(body) if body else None

    def initialize(self, server, wait=30):
        """Retries until the server listens (or has exited, or `wait` seconds passed)."""
        deadline = time.monotonic() + wait
        params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "packaging-test", "version": "1"}}
        while True:
            try:
                answer = self.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
                self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
                return answer["result"]
            except OSError:
                assert server.poll() is None, f"the server exited: {server.stderr.read() if server.stderr else ''}"
                assert time.monotonic() < deadline, f"the server did not answer within {wait} s"
                time.sleep(0.2)

    def call(self, tool, arguments):
        return self.post({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})["result"]


def traced_session(trace):
    """`pgmcp check`, then `pgmcp serve` with an MCP session that queries, then SIGTERM, all under
    strace into `trace` (a file per command); as root, which changes no system call pgmcp makes."""
    env = environment()
    run(["strace", "-f", "-qq", "-o", f"{trace}.check", "/usr/bin/pgmcp", "check"], env=env)
    port = free_port()
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-o", f"{trace}.serve", "/usr/bin/pgmcp", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        client = HTTPClient(port)
        client.initialize(tracer)
        assert not client.call("query", {"sql": "SELECT 1"}).get("isError")
    finally:
        # strace passes no signal on: SIGTERM goes to pgmcp, its child; strace ends with it.
        children = pathlib.Path(f"/proc/{tracer.pid}/task/{tracer.pid}/children").read_text().split()
        for child in children:
            os.kill(int(child), signal.SIGTERM)
        tracer.wait(timeout=30)
    text = pathlib.Path(f"{trace}.check").read_text() + pathlib.Path(f"{trace}.serve").read_text()
    calls = {line.split("(", 1)[0].split()[-1] for line in text.splitlines() if "(" in line and not line.split()[1].startswith("<...")}
    families = {part.split(",", 1)[0] for part in text.split("socket(")[1:]}
    return calls, families


def expand(name):
    """A system call group (@system-service) as the names of its calls, via systemd-analyze."""
    if not name.startswith("@"):
        return {name}
    listing = run(["systemd-analyze", "syscall-filter", name]).stdout.splitlines()[1:]
    names = (line.strip() for line in listing)
    return set().union(*(expand(item) for item in names if item and not item.startswith("#")))


def allowed_calls():
    """What the unit's SystemCallFilter= lines allow, in order: the first an allow-list, then `~`
    removes and a plain list adds back."""
    allowed = None
    for line in UNIT.read_text().splitlines():
        if not line.startswith("SystemCallFilter="):
            continue
        value = line.split("=", 1)[1]
        names = set().union(*(expand(item) for item in value.lstrip("~").split()))
        if allowed is None:
            assert not value.startswith("~"), "the first filter is expected to be an allow-list"
            allowed = names
        elif value.startswith("~"):
            allowed -= names
        else:
            allowed |= names
    return allowed
