-- wrk script: POST the URL's path with a fixed JSON body, as the key given.
-- Arguments: KEY BODY (BODY is the whole JSON text).
local key, body = nil, nil

function init(args)
  key = args[1]
  body = args[2]
end

function request()
  return wrk.format("POST", nil, { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
