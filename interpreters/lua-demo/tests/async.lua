-- The script of the Lua async tests (`async.rs`).
local host = require("test:lua-async/host")

local journal, outcome = {}, "none"

local Token = {}
Token.__index = Token
-- Every token made, weakly: what the garbage collector leaves is alive.
local made = setmetatable({}, { __mode = "k" })

return {
  ["test:lua-async/api"] = {
    -- Copies every chunk of `input` to the returned stream.
    echo = function(input)
      local output, writer = wit.stream("stream<u8>")
      wit.spawn(function()
        for chunk in function() return input:read() end do
          writer:write(chunk)
        end
        writer:close()
      end)
      return output
    end,
    chunk_sizes = function(input)
      local sizes = {}
      for chunk in function() return input:read() end do
        sizes[#sizes + 1] = #chunk
      end
      return sizes
    end,
    -- Notes each step in the journal, pausing between steps.
    work = function(tag, steps)
      for i = 1, steps do
        journal[#journal + 1] = tag .. i
        host.pause()
      end
    end,
    journal = function() return journal end,
    whose_coroutine = function()
      host.pause()
      return tostring((coroutine.running()))
    end,
    -- Streams 1..n one at a time; records how far it got.
    numbers = function(n)
      local reader, writer = wit.stream("u32")
      wit.spawn(function()
        for i = 1, n do
          local written, why = writer:write({ i })
          if why == "closed" then
            outcome = "closed after " .. (i - 1 + written)
            return
          end
        end
        outcome = "all written"
        writer:close()
      end)
      return reader
    end,
    outcome = function() return outcome end,
    ambiguous_future = function()
      local _, unnamed = pcall(wit.future, "tag")
      local _, elsewhere = pcall(wit.future, "tag", "test:lua-async/api")
      return tostring(unnamed) .. "\n" .. tostring(elsewhere)
    end,
    huge_read = function()
      local bytes = wit.stream("stream<u8>")
      local numbers = wit.stream("stream<u32>")
      local _, too_many_bytes = pcall(bytes.read, bytes, math.maxinteger)
      local _, too_many_numbers = pcall(numbers.read, numbers, 1 << 30)
      return tostring(too_many_bytes) .. "\n" .. tostring(too_many_numbers)
    end,
    token = Token,
    tokens = function(n)
      local reader, writer = wit.stream("token")
      wit.spawn(function()
        local batch = {}
        for i = 1, n do
          batch[i] = setmetatable({}, Token)
          made[batch[i]] = true
        end
        local written, why = writer:write(batch)
        outcome = "tokens: " .. written .. " written, " .. tostring(why)
        writer:close()
      end)
      return reader
    end,
    live_tokens = function()
      collectgarbage()
      collectgarbage()
      local live = 0
      for _ in pairs(made) do live = live + 1 end
      return live
    end,
    heap_kib = function()
      collectgarbage()
      collectgarbage()
      return math.floor(collectgarbage("count"))
    end,
    fail_later = function()
      host.pause()
      error("boom after pausing")
    end,
    bad_stream = function()
      local reader, writer = wit.stream("u32")
      wit.spawn(function() writer:write({ 1, "two", 3 }) end)
      return reader
    end,
    bad_future = function()
      local reader, writer = wit.future("string")
      wit.spawn(function() writer:write(42) end)
      return reader
    end,
    wrong_end = function()
      local reader, writer = wit.stream("u32")
      writer:close()
      return reader
    end,
    unknown_stream = function()
      local _, err = pcall(wit.stream, "u64")
      return tostring(err)
    end,
    sync_calls_async = function()
      local _, err = pcall(host.pause)
      return tostring(err)
    end,
  },
  ["test:lua-async/left"] = {
    left_tag = function()
      local reader, writer = wit.future("tag", "test:lua-async/left")
      wit.spawn(function() writer:write({ a = 1 }) end)
      return reader
    end,
  },
  ["test:lua-async/right"] = {
    right_tag = function()
      local reader, writer = wit.future("tag", "test:lua-async/right")
      wit.spawn(function() writer:write({ b = "one" }) end)
      return reader
    end,
  },
}
