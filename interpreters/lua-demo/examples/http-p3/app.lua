-- A WASI 0.3 HTTP handler: routes on method and path, reads and streams
-- bodies, and keeps state in its instance, which `serve` reuses for many
-- requests, several at once.
local http = require("helpers.http3")
local clock = require("wasi:clocks/monotonic-clock@0.3.0")

-- Module state lives as long as the instance: counted across requests.
local visits = 0
-- Requests in `/together` right now, and the most seen at once.
local together, most_together = 0, 0

local routes = {}

routes["GET /"] = function()
  return http.text(200, "Hello from Lua over WASI 0.3!\n")
end

routes["GET /visits"] = function()
  visits = visits + 1
  return http.json(200, { visits = visits })
end

-- The request body back, chunk by chunk, as it arrives.
routes["POST /echo"] = function(req)
  local chunks = req.chunks()
  return http.respond(200, { ["content-type"] = req.headers["content-type"] or "application/octet-stream" },
    function(write)
      for chunk in chunks do
        if not write(chunk) then break end
      end
    end)
end

-- `n` lines, one every `ms` milliseconds: the client sees each at once.
routes["GET /count"] = function(req)
  local n = math.tointeger(tonumber(req.query.n)) or 3
  local ms = math.tointeger(tonumber(req.query.ms)) or 0
  return http.respond(200, { ["content-type"] = "text/plain" }, function(write)
    for i = 1, n do
      if not write(i .. "\n") then break end
      if ms > 0 then clock.wait_for(ms * 1000000) end
    end
  end)
end

-- Waits (up to 5 s) until `n` requests are here at once, then says how many
-- it saw: more than one only if the instance runs requests concurrently.
routes["GET /together"] = function(req)
  local n = tonumber(req.query.n) or 2
  together = together + 1
  most_together = math.max(most_together, together)
  for _ = 1, 500 do
    if most_together >= n then break end
    clock.wait_for(10000000)
  end
  together = together - 1
  return http.json(200, { most = most_together })
end

routes["GET /fail"] = function()
  error("this handler fails on purpose")
end

return {
  ["wasi:http/handler@0.3.0"] = {
    handle = function(request)
      local req = http.request(request)
      local route = routes[req.method .. " " .. req.route]
      if not route then
        return http.text(404, "no route for " .. req.method .. " " .. req.route .. "\n")
      end
      return route(req)
    end,
  },
}
