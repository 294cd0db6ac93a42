-- The smallest WASI 0.3 handler: one fixed response, its body streamed.
local types = require("wasi:http/types@0.3.0")

return {
  ["wasi:http/handler@0.3.0"] = {
    handle = function(_request)
      local headers = assert(types.fields.from_list({ { "content-type", "text/plain" } }).ok)
      local body, body_out = wit.stream("u8")
      local trailers, trailers_out = wit.future("result<option<fields>, error-code>")
      local response = types.response.new(headers, body, trailers)[1]
      wit.spawn(function()
        body_out:write("Hello, world!\n")
        body_out:close()
        trailers_out:write({ ok = wit.none })
      end)
      return { ok = response }
    end,
  },
}
