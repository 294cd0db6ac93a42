-- A WASI 0.3 command: `wasmtime run` calls `run`, which writes its greeting
-- to WASI 0.3's stdout, a stream.
local stdout = require("wasi:cli/stdout@0.3.0")

return {
  ["wasi:cli/run@0.3.0"] = {
    run = function()
      local text, out = wit.stream("u8")
      local written = stdout.write_via_stream(text)
      out:write("Hello from a Lua command!\n")
      out:close()
      local result = written:read()
      if result.err then
        return { err = true }
      end
      return { ok = true }
    end,
  },
}
