-- The script of the `none` tests (none.rs): shows every argument, then
-- hands it back; `made` writes `none` in every position itself.
local seen = {}

-- A value as the script sees it: `nil`, `wit.none`, or a table with its
-- sequence first (as far as `#` reaches), then its other keys sorted.
local function show(v)
  if v == nil then return "nil" end
  if v == wit.none then return "wit.none" end
  if type(v) ~= "table" then return tostring(v) end
  local parts, keys = {}, {}
  for i = 1, #v do parts[i] = show(v[i]) end
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > #v then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. " = " .. show(v[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function echo(x)
  seen[#seen + 1] = show(x)
  return x
end

return {
  ["test:none/api"] = {
    in_list = echo,
    in_result = echo,
    in_map = echo,
    in_option = echo,
    in_stream = function(x)
      local items = {}
      for got in function() return x:read() end do
        table.move(got, 1, #got, #items + 1, items)
      end
      echo(items)
      local reader, writer = wit.stream("option<u32>")
      wit.spawn(function()
        writer:write(items)
        writer:close()
      end)
      return reader
    end,
    in_future = function(x)
      local value, why = x:read()
      echo(value)
      assert(why == nil, why)
      local reader, writer = wit.future("option<u32>")
      wit.spawn(function() writer:write(value) end)
      return reader
    end,
    seen = function() return seen end,
    made = function()
      return {
        items = { 1, wit.none, 3 },
        ok_none = { ok = wit.none },
        err_none = { err = wit.none },
        entries = { a = 1, b = wit.none },
        nested = { wit.none, { some = wit.none }, { some = 7 } },
        plain = nil,
        sentinel = wit.none,
        loose = {},
      }
    end,
  },
}
