-- Counts words on a stream<u8> and streams the counts back as stream<string>,
-- noting progress through the async import `demo:words/log`.
-- Run: cargo run -p lua-demo -- demo interpreters/lua-demo/examples/words/words.lua
local log = require("demo:words/log")

-- Reads `text` to its end; returns the count of each word and the words in
-- the order they first appeared.
local function count(text)
  local counts, order = {}, {}
  local function add(word)
    word = word:lower():gsub("%p", "")
    if word == "" then return end
    if counts[word] == nil then
      counts[word] = 0
      order[#order + 1] = word
    end
    counts[word] = counts[word] + 1
  end
  local pending = ""
  -- Each read waits for the next chunk; nil means the writer is done.
  for chunk in function() return text:read() end do
    pending = pending .. chunk
    -- A word is complete once whitespace follows it; the rest waits for
    -- the next chunk.
    local complete, partial = pending:match("^(.*%s)(%S*)$")
    if complete then
      for word in complete:gmatch("%S+") do add(word) end
      pending = partial or ""
    end
  end
  for word in pending:gmatch("%S+") do add(word) end
  return counts, order
end

return {
  ["demo:words/counter"] = {
    count_words = function(text)
      local counts, order = count(text)
      local lines, out = wit.stream("string")
      -- The writer goes on after this export has returned `lines`.
      wit.spawn(function()
        for _, word in ipairs(order) do
          local _, why = out:write({ word .. " " .. counts[word] })
          if why == "closed" then break end -- the reader went away
        end
        out:close()
      end)
      -- An async import: this call waits for the host's answer.
      log.note(#order .. " distinct words")
      return lines
    end,
  },
}
