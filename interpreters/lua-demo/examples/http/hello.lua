-- The smallest handler: one fixed response (the benchmark's Lua side).
local http = require("helpers.http")

return {
  ["wasi:http/incoming-handler@0.2.12"] = {
    handle = function(_request, out)
      http.respond(out, 200, { ["content-type"] = "text/plain" }, "Hello, world!\n")
    end,
  },
}
