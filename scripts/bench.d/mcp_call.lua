-- wrk script: one MCP session per wrk thread (run with -t N -c N), then tools/call query.
-- wrk -s mcp_call.lua URL -- select1|pk|same|unique
local session = nil
local id = 0
local mode = "select1"

function init(args)
  mode = args[1] or "select1"
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json, text/event-stream" }

function request()
  if not session then
    return wrk.format("POST", "/mcp", headers,
      '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"wrk","version":"1"}}}')
  end
  id = id + 1
  local arguments
  if mode == "pk" then
    arguments = string.format('{"sql":"SELECT abalance FROM pgbench_accounts WHERE aid = $1","params":[%d]}', math.random(1, 100000))
  elseif mode == "unique" then
    -- A text never sent before: pgmcp's statement check parses it (no cached outcome).
    arguments = string.format('{"sql":"SELECT 1 AS c%d_%d"}', id, math.random(1, 1000000000))
  elseif mode == "same" then
    arguments = '{"sql":"SELECT 1 AS c1_1"}'
  else
    arguments = '{"sql":"SELECT 1"}'
  end
  local h = { ["Content-Type"] = "application/json", ["Accept"] = "application/json, text/event-stream",
              ["Mcp-Session-Id"] = session, ["MCP-Protocol-Version"] = "2025-06-18" }
  return wrk.format("POST", "/mcp", h,
    string.format('{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"query","arguments":%s}}', id, arguments))
end

function response(status, headers, body)
  if not session then
    session = headers["Mcp-Session-Id"] or headers["mcp-session-id"]
  end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.1f %.1f %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
