-- wrk script: POST /v1/mcp with the agent key given as the first script
-- argument, as the 2026-07-28 revision sends it (_meta and the mirrored
-- MCP-Protocol-Version / Mcp-Method / Mcp-Name headers). Second argument:
-- "list" (tools/list) or the name of a read tool to call (tools/call).
local key, what = nil, nil
local meta = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'

function init(args)
  key = args[1]
  what = args[2]
end

function request()
  local headers = {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = "2026-07-28",
  }
  local body
  if what == "list" then
    headers["Mcp-Method"] = "tools/list"
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{' .. meta .. '}}'
  else
    headers["Mcp-Method"] = "tools/call"
    headers["Mcp-Name"] = what
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. what .. '","arguments":{},' .. meta .. '}}'
  end
  return wrk.format("POST", nil, headers, body)
end
