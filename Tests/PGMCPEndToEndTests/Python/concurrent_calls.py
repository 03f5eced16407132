"""Makes COUNT tools/call requests at the same moment, each in an MCP session of its own.

Usage: concurrent_calls.py PORT COUNT SQL DATABASE [DATABASE ...]
Call i goes to DATABASE[i % len(DATABASES)]. Threads, not the test's async tasks: those share a
thread pool as wide as the machine's cores, which would let only a few requests be in flight.
Prints one line per call: "<replica> <HTTP status> <true if the tool succeeded>".
"""
import http.client
import json
import sys
import threading

port, count, sql, databases = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "load", "version": "1"}}}
barrier = threading.Barrier(count)
lines = [None] * count


def call(index):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/mcp", json.dumps(initialize), headers)
    response = connection.getresponse()
    response.read()
    session = response.getheader("Mcp-Session-Id")
    barrier.wait()
    arguments = {"sql": sql, "database": databases[index % len(databases)]}
    body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "query", "arguments": arguments}}
    connection.request("POST", "/mcp", json.dumps(body), {**headers, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"})
    response = connection.getresponse()
    text = response.read().decode()
    lines[index] = f"{session.split('.')[0]} {response.status} {str(json.loads(text)['result']['isError'] is False).lower()}"


threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("\n".join(line or "failed" for line in lines))
