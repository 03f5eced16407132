"""Drives a pgmcp server with the official Python MCP SDK (2.x), the client most tools build on.

Usage: python_sdk_client.py URL CONNECTION_STRING
Runs the whole tool set twice: in the SDK's default mode, which speaks MCP 2026-07-28 (no protocol
session: state lives in open_session handles), and pinned to the 2025 era (initialize, 2025-11-25).
Exits 0 and prints "python sdk: N checks passed" when every check holds; raises otherwise.
The server must serve two databases, "dev" (read-write) and "ro" (read-only), over the same
scratch database holding the suite's fixture tables (customers, orders), and allow dynamic
connections to CONNECTION_STRING's host.
"""
import sys

import anyio
from jsonschema import Draft202012Validator
from mcp import Client, MCPError

URL = sys.argv[1]
# Reaches the same scratch database for connect_database (the server allows its host).
DYNAMIC = sys.argv[2]
checks = 0


def check(condition, message):
    global checks
    if not condition:
        raise AssertionError(message)
    checks += 1


async def tools_are_listed(client):
    tools = await client.list_tools()
    names = [tool.name for tool in tools.tools]
    check("query" in names and "begin_transaction" in names and len(names) == 17, f"tools {names}")
    for tool in tools.tools:
        check(tool.input_schema["properties"]["session"]["x-mcp-header"] == "Session", tool.name)
        # Both schemas are valid JSON Schema (raises otherwise), as strict clients require.
        Draft202012Validator.check_schema(tool.input_schema)
        Draft202012Validator.check_schema(tool.output_schema)
    # Every kind of value the server takes for $1, $2, … is allowed by the params schema.
    query_schema = next(tool.input_schema for tool in tools.tools if tool.name == "query")
    every_kind = ["text", 1, 2.5, True, None, {"k": [1]}, [1, None, "x"], [[1, 2], [3, 4]]]
    Draft202012Validator(query_schema).validate({"sql": "SELECT 1", "params": every_kind})


async def every_tool(client, label):
    """The tool set in a work session of its own (an open_session handle), as both eras allow."""
    # Every structured result below is validated by the SDK against the tool's outputSchema.
    databases = await client.call_tool("list_databases", {})
    check(not databases.is_error, "list_databases failed")
    check([d["name"] for d in databases.structured_content["databases"]] == ["dev", "ro"], "database names")
    check('"databases"' in databases.content[0].text, "text content holds the same JSON")

    opened = await client.call_tool("open_session", {"database": "ro", "label": label})
    handle = opened.structured_content["session"]
    s = {"session": handle}
    selected = await client.call_tool("select_database", {"database": "ro", **s})
    check(selected.structured_content["readOnly"] is True, "ro is read-only")

    rows = await client.call_tool("query", {"sql": "SELECT id, email FROM customers WHERE id = $1", "params": [2], **s})
    check(rows.structured_content["rows"] == [[2, "c2@example.com"]], f"query rows {rows.structured_content}")
    check(rows.structured_content["database"] == "ro", "query ran on the handle's active database")

    refused = await client.call_tool("execute", {"sql": "DELETE FROM orders", **s})
    check(refused.is_error and "read-only" in refused.content[0].text, refused.content[0].text)
    written = await client.call_tool("execute", {"sql": "UPDATE customers SET name = $1 WHERE id = 1", "params": ["Grace"], "database": "dev", **s})
    check(written.structured_content["rowsAffected"] == 1, "execute on dev")

    bad = await client.call_tool("query", {"sql": "SELECT FROM WHERE", **s})
    check(bad.is_error and "42601" in bad.content[0].text, f"syntax error {bad.content}")
    typo = await client.call_tool("query", {"sql": "SELEC 1", **s})
    check(typo.is_error and "42601" in typo.content[0].text and "SELEC" in typo.content[0].text, f"PostgreSQL's syntax error {typo.content}")
    escaping = await client.call_tool("query", {"sql": "SELECT pg_catalog.pg_terminate_backend(pg_backend_pid())", **s})
    check(escaping.is_error and "pg_terminate_backend" in escaping.content[0].text, f"an escaping function {escaping.content}")

    described = await client.call_tool("describe_table", {"table": "orders", **s})
    check(described.structured_content["primaryKey"] == ["id"], "describe_table")
    schemas = await client.call_tool("list_schemas", s)
    check("reporting" in [x["name"] for x in schemas.structured_content["schemas"]], "list_schemas")
    tables = await client.call_tool("list_tables", {"schema": "public", **s})
    check("orders" in [t["name"] for t in tables.structured_content["tables"]], "list_tables")
    plan = await client.call_tool("explain", {"sql": "SELECT * FROM orders", **s})
    check(isinstance(plan.structured_content["plan"], list), "explain")
    status = await client.call_tool("server_status", s)
    check([p["name"] for p in status.structured_content["pools"]] == ["dev", "ro"], "server_status")

    # A transaction across calls: two inserts, seen inside, not outside; rolled back, nothing;
    # committed, both. Calls without the handle stand outside it.
    await client.call_tool("select_database", {"database": "dev", **s})
    count = "SELECT count(*) FROM customers WHERE name LIKE 'py tx %'"
    for ending, expected in (("rollback_transaction", 0), ("commit_transaction", 2)):
        begun = await client.call_tool("begin_transaction", {"read_only": False, **s})
        check(not begun.is_error and begun.structured_content["transaction"]["readOnly"] is False, f"begin {begun.content}")
        for name in ("py tx one", "py tx two"):
            await client.call_tool("execute", {"sql": "INSERT INTO customers (name) VALUES ($1)", "params": [name], **s})
        inside = await client.call_tool("query", {"sql": count, **s})
        check(inside.structured_content["rows"] == [[2]], f"inside {inside.structured_content}")
        shown = await client.call_tool("current_database", s)
        check(shown.structured_content["transaction"]["status"] == "open", f"current_database {shown.structured_content}")
        outside = await client.call_tool("query", {"sql": count, "database": "dev"})
        check(outside.structured_content["rows"] == [[0]], f"outside {outside.structured_content}")
        ended = await client.call_tool(ending, s)
        check(not ended.is_error, f"{ending} {ended.content}")
        after = await client.call_tool("query", {"sql": count, "database": "dev"})
        check(after.structured_content["rows"] == [[expected]], f"after {ending}: {after.structured_content}")
    await client.call_tool("execute", {"sql": "DELETE FROM customers WHERE name LIKE 'py tx %'", "database": "dev", **s})

    # A dynamic connection: private to the work session that made it, its password never shown.
    password = DYNAMIC.split(":")[2].split("@")[0]
    dyn = await client.call_tool("connect_database", {"connection_string": DYNAMIC, "name": "py-dynamic", **s})
    check(not dyn.is_error and dyn.structured_content["database"]["kind"] == "dynamic", f"connect_database {dyn.content}")
    counted = await client.call_tool("query", {"sql": "SELECT count(*) FROM customers", **s})
    check(counted.structured_content["database"] == "py-dynamic", "the dynamic connection is active")
    seen = await client.call_tool("list_databases", {})
    check("py-dynamic" not in [d["name"] for d in seen.structured_content["databases"]], "invisible outside its work session")
    listed = await client.call_tool("list_databases", s)
    check(password not in listed.content[0].text and password not in dyn.content[0].text, "no password in output")
    gone = await client.call_tool("disconnect_database", {"name": "py-dynamic", **s})
    check(gone.structured_content["activeDatabase"] == "dev", f"disconnect_database {gone.structured_content}")

    closed = await client.call_tool("close_session", s)
    check(closed.structured_content["closed"] == handle, "close_session")
    dead = await client.call_tool("query", {"sql": "SELECT 1", **s})
    check(dead.is_error, "a closed handle is refused")

    try:
        await client.call_tool("no_such_tool", {})
        check(False, "unknown tool must raise")
    except MCPError as error:
        check(error.error.code == -32602, f"unknown tool code {error.error.code}")

    # A client-side timeout cancels the call (2026: the response stream is closed; 2025: also
    # notifications/cancelled): the statement must stop in PostgreSQL.
    marker = f"py-cancel-{label}"
    try:
        await client.call_tool("query", {"sql": f"SELECT pg_sleep(30) /* {marker} */"}, read_timeout_seconds=1)
        check(False, "the sleep must time out")
    except MCPError as error:
        check(error.error.code == -32001, f"timeout code {error.error.code}")
    probe = f"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%{marker}%' AND query NOT LIKE '%pg_stat_activity%'"
    for _ in range(50):
        active = await client.call_tool("query", {"sql": probe})
        if active.structured_content["rows"] == [[0]]:
            break
        await anyio.sleep(0.1)
    check(active.structured_content["rows"] == [[0]], "the cancelled statement is gone")


async def main():
    # The default mode probes MCP 2026-07-28's server/discover first: pgmcp answers it.
    async with Client(URL, read_timeout_seconds=30) as client:
        check(client.session.protocol_version == "2026-07-28", f"protocol {client.session.protocol_version}")
        await tools_are_listed(client)
        await every_tool(client, "modern")
        # No protocol session: a call that changes one keeps its work session and returns the handle.
        selected = await client.call_tool("select_database", {"database": "ro"})
        handle = selected.structured_content["session"]
        check(not selected.is_error and isinstance(handle, str) and handle in selected.structured_content["note"], f"select_database without a handle {selected}")
        kept = await client.call_tool("current_database", {"session": handle})
        check(kept.structured_content["database"] == "ro", "the kept session holds the selection")
        await client.call_tool("close_session", {"session": handle})
        current = await client.call_tool("current_database", {})
        check(current.structured_content["database"] == "dev" and current.structured_content["transaction"] is None, "a call alone")

    # Pinned to the 2025 era: initialize, Mcp-Session-Id, the transport session's own state.
    async with Client(URL, mode="legacy", read_timeout_seconds=30) as client:
        check(client.session.protocol_version == "2025-11-25", f"protocol {client.session.protocol_version}")
        await tools_are_listed(client)
        await every_tool(client, "legacy")
        selected = await client.call_tool("select_database", {"database": "ro"})
        check(selected.structured_content["database"] == "ro", "select_database on the transport session")
        current = await client.call_tool("current_database", {})
        check(current.structured_content["database"] == "ro", "the transport session keeps its choice")

    # A second legacy client gets a session of its own.
    async with Client(URL, mode="legacy") as other:
        current = await other.call_tool("current_database", {})
        check(current.structured_content["database"] == "dev", "a new session starts on the default")

    print(f"python sdk: {checks} checks passed")


anyio.run(main)
