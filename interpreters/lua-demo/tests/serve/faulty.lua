-- A handler with failing routes, for tests/serve.rs: each failure must get
-- the client a 500 (or a cut body) and leave the server serving.
local http = require("helpers.http")

local routes = {
  ["/ok"] = function(_, out)
    http.respond(out, 200, { ["content-type"] = "text/plain" }, "ok\n")
  end,
  -- An uncaught Lua error before any response.
  ["/error"] = function()
    error("boom from Lua")
  end,
  -- Runs until the fuel limit stops it.
  ["/loop"] = function()
    local n = 0
    while true do
      n = n + 1
    end
  end,
  -- Allocates until the memory limit stops it.
  ["/hog"] = function()
    local block = string.rep("x", 1 << 16)
    local t = {}
    while true do
      -- A new 1 MiB string each time (long strings are not shared).
      t[#t + 1] = string.rep(block, 16)
    end
  end,
  -- Tries to send a request of its own: the sandbox refuses. Answers with
  -- the error's case.
  ["/fetch"] = function(_, out)
    local types = http.types
    local request = types.outgoing_request.new(types.fields.new())
    assert(request:set_scheme({ tag = "HTTP" }).ok)
    assert(request:set_authority("127.0.0.1:9").ok)
    assert(request:set_path_with_query("/").ok)
    local sent = require("wasi:http/outgoing-handler@0.2.12").handle(request, nil)
    local outcome
    if sent.err then
      outcome = sent.err.tag
    else
      local future = sent.ok
      do
        local ready <close> = future:subscribe()
        ready:block()
      end
      local got = future:get()
      outcome = got.ok and (got.ok.err and got.ok.err.tag or "a response") or "no answer"
    end
    http.respond(out, 200, { ["content-type"] = "text/plain" }, outcome)
  end,
  -- Returns without answering.
  ["/silent"] = function() end,
  -- Fails after the status is out: the body is cut short.
  ["/late"] = function(_, out)
    local writer = http.start(out, 200, { ["content-type"] = "text/plain" })
    writer:write("partial ")
    error("failed mid-body")
  end,
}

return {
  ["wasi:http/incoming-handler@0.2.12"] = {
    handle = function(request, out)
      local path = http.request(request).path
      local route = routes[path] or routes["/ok"]
      route(request, out)
    end,
  },
}
