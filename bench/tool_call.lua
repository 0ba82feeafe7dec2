-- wrk script: POST /v1/connectors/{id}/tools/{tool}/call (the URL's path)
-- with the manager key given as the first script argument. With a second
-- argument (a prefix unique to this run), each request carries a fresh
-- Idempotency-Key: a side-effecting call, held by the tenant object.
local key, run = nil, nil
local counter = 0
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
end

function init(args)
  key = args[1]
  run = args[2]
end

function request()
  counter = counter + 1
  local headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
  local body = '{}'
  if run then
    headers["Idempotency-Key"] = string.format("%s-%d-%d", run, thread_id, counter)
    body = '{"arguments":{"owner":"bench","repo":"bench","title":"bench"}}'
  end
  return wrk.format("POST", nil, headers, body)
end
