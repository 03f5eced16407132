"""The workflow a new user runs, in each client's default mode (MCP 2026-07-28): list databases,
select staging, query, select dev, begin, execute, commit, query. Over stdio the calls pass no
handle; over HTTP they pass the handle the first state-changing call returned.

Both clients users run: the official Python SDK 2.x (`mcp.Client`) and fastmcp 4 (`fastmcp.Client`).

usage: workflow_2026.py http URL
       workflow_2026.py stdio PGMCP_BINARY   (the server's DB_CONFIGS and password in the environment)
"""
import os
import sys

import anyio


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)


async def workflow(call, label, over_stdio):
    """`call(tool, arguments)` returns the structured content of a successful call."""
    handle = None

    def arguments(given):
        return dict(given, session=handle) if handle else given

    listed = await call("list_databases", {})
    names = [entry["name"] for entry in listed["databases"]]
    check({"staging", "dev"} <= set(names), f"{label}: databases {names}")

    selected = await call("select_database", arguments({"database": "staging"}))
    check(selected["database"] == "staging", f"{label}: select staging {selected}")
    if over_stdio:
        check("note" not in selected, f"{label}: stdio keeps its one session, no handle to learn {selected}")
    else:
        handle = selected.get("session")
        check(isinstance(handle, str) and handle in selected.get("note", ""), f"{label}: select returns its handle {selected}")

    read = await call("query", arguments({"sql": "SELECT count(*) AS n FROM workflow"}))
    check(read["database"] == "staging", f"{label}: the query ran on staging {read}")

    await call("select_database", arguments({"database": "dev"}))
    begun = await call("begin_transaction", arguments({"read_only": False}))
    check(begun["transaction"]["status"] == "open" and begun["transaction"]["database"] == "dev", f"{label}: begin {begun}")
    written = await call("execute", arguments({"sql": "INSERT INTO workflow (who) VALUES ($1)", "params": [label]}))
    check(written["rowsAffected"] == 1 and written["database"] == "dev", f"{label}: execute {written}")
    committed = await call("commit_transaction", arguments({}))
    check(committed["outcome"] == "committed", f"{label}: commit {committed}")
    after = await call("query", arguments({"sql": "SELECT count(*) AS n FROM workflow WHERE who = $1", "params": [label]}))
    check(after["database"] == "dev" and after["rows"] == [[1]], f"{label}: the write is there {after}")
    if handle:
        await call("close_session", {"session": handle})


async def with_official_sdk(mode, target):
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    server = StdioServerParameters(command=target, args=["serve", "--transport", "stdio"], env=dict(os.environ)) if mode == "stdio" else target
    async with Client(server, read_timeout_seconds=30) as client:
        check(client.session.protocol_version == "2026-07-28", f"official SDK over {mode}: protocol {client.session.protocol_version}")

        async def call(tool, arguments):
            result = await client.call_tool(tool, arguments)
            check(not result.is_error, f"official SDK {tool} {arguments}: {result.content}")
            return result.structured_content

        await workflow(call, f"official-sdk-{mode}", mode == "stdio")


async def with_fastmcp(mode, target):
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport

    server = StdioTransport(command=target, args=["serve", "--transport", "stdio"], env=dict(os.environ)) if mode == "stdio" else target
    async with Client(server, timeout=30) as client:
        async def call(tool, arguments):
            result = await client.call_tool(tool, arguments)
            return result.structured_content

        await workflow(call, f"fastmcp-{mode}", mode == "stdio")


async def main():
    mode, target = sys.argv[1], sys.argv[2]
    await with_official_sdk(mode, target)
    await with_fastmcp(mode, target)
    print("workflow checks passed", flush=True)


anyio.run(main)
