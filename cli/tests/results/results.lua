-- Exports returning each kind of value `wit-dylib run` must print.
local function stream_of(ty, items)
  local reader, writer = wit.stream(ty)
  wit.spawn(function()
    for _, item in ipairs(items) do writer:write({ item }) end
    writer:close()
  end)
  return reader
end

local Counter = {}
Counter.__index = Counter
function Counter.new(start) return setmetatable({ n = start }, Counter) end

return {
  ["test:results/api"] = {
    counter = Counter,
    numbers = function(n)
      local items = {}
      for i = 1, n do items[i] = i end
      return stream_of("u32", items)
    end,
    words = function() return stream_of("string", { "a", "b c" }) end,
    answer = function()
      local reader, writer = wit.future("string")
      wit.spawn(function() writer:write("forty-two") end)
      return reader
    end,
    maybe_stream = function(ok)
      if ok then
        local reader, writer = wit.stream("u8")
        wit.spawn(function()
          writer:write("\1\2") -- a stream<u8> takes strings of bytes
          writer:close()
        end)
        return { ok = reader }
      end
      return { err = "no stream" }
    end,
    make_counter = function() return Counter.new(0) end,
    pair = function() return { 7, "seven" } end,
    points = function() return stream_of("tuple<u32, u32>", { { 1, 2 } }) end,
  },
}
