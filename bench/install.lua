-- wrk script: POST /v1/connectors with a unique name per request, spread
-- round-robin over the manager keys listed (one per line) in the file given
-- as the first script argument; the second is the fake provider's base URL,
-- the third a prefix unique to this run (names must not repeat across runs).
-- The request goes to the URL's path: /v1/connectors installs, and
-- /v1/catalog/github/verify runs only the probe (the name is then ignored).
local keys, base, run = {}, nil, nil
local counter = 0
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  -- Sets the global `thread_id` inside that thread's own Lua state.
  thread:set("thread_id", next_id)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(keys, line) end
  end
  base = args[2]
  run = args[3]
end

function request()
  counter = counter + 1
  local key = keys[(counter % #keys) + 1]
  local body
  if string.find(wrk.path, "/verify", 1, true) then
    body = string.format(
      '{"auth":{"type":"pat","token":"ghp_BenchToken0123456789abcdefghijklmnop"},"config":{"base_url":"%s"}}',
      base)
  else
    body = string.format(
      '{"listing":"github","name":"%s-%d-%d","auth":{"type":"pat","token":"ghp_BenchToken0123456789abcdefghijklmnop"},"config":{"base_url":"%s"}}',
      run, thread_id, counter, base)
  end
  return wrk.format("POST", nil,
    { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
