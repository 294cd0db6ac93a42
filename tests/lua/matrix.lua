-- The matrix's Lua side: the same seeded values as the `val` interpreter
-- (tests/interpreters/val/src/generate.rs), produced in Lua's mapping of WIT
-- values, so that Lua and val components can call each other and check every
-- value. The harness appends the world's type descriptors and role code.
--
-- Lua 5.4 integers are 64-bit and wrap like Rust's wrapping arithmetic, and
-- `>>` is a logical shift, so splitmix64 and FNV-1a carry over unchanged.

local M = {}

local GOLDEN = 0x9e3779b97f4a7c15
local ONE_MIB = 1 << 20
local HUGE_UNIT = "wasm \u{2713} "

function M.rng(seed)
  local state = seed
  local rng = {}
  function rng.next()
    state = state + GOLDEN
    local z = state
    z = (z ~ (z >> 30)) * 0xbf58476d1ce4e5b9
    z = (z ~ (z >> 27)) * 0x94d049bb133111eb
    return z ~ (z >> 31)
  end
  -- `next() % n` on the unsigned value.
  function rng.below(n)
    local x = rng.next()
    if x >= 0 then return x % n end
    local high = (math.maxinteger % n + 1) % n -- 2^63 mod n
    return ((x & math.maxinteger) % n + high) % n
  end
  return rng
end

function M.seed(name, iteration, result)
  local hash = 0xcbf29ce484222325
  for i = 1, #name do
    hash = (hash ~ name:byte(i)) * 0x100000001b3
  end
  return hash ~ (((iteration << 1) | (result and 1 or 0)) * GOLDEN)
end

function M.size(iteration)
  return { depth = 3, huge = iteration == 3 }
end

local function sign_extend(x, bits)
  local sign = 1 << (bits - 1)
  x = x & ((1 << bits) - 1)
  return (x ~ sign) - sign
end

local function pick(rng, edges)
  local i = rng.below(#edges + 1)
  if i < #edges then return edges[i + 1] end
  return rng.next()
end

local function to_f32(x)
  return (string.unpack("<f", string.pack("<f", x)))
end

local FLOAT_EDGES = { 0.0, -0.0, 1.5, -2.25, math.huge, -math.huge, 0 / 0 }
local function pick_float(rng)
  local i = rng.below(#FLOAT_EDGES + 1)
  if i < #FLOAT_EDGES then return FLOAT_EDGES[i + 1] end
  return rng.below(1000000) / 8.0
end

-- The bytes 0..250: a huge stream<u8> carries them over and over.
local BYTE_PATTERN = (function()
  local bytes = {}
  for i = 0, 250 do bytes[#bytes + 1] = string.char(i) end
  return table.concat(bytes)
end)()

local CHARS = { "a", "\0", "\u{fc}", "\u{20ac}", "\u{1f980}", "\u{d7ff}", "\u{e000}", "\u{10ffff}" }

local function length(rng, size)
  if size.depth == 0 then return 0 end
  local r = rng.below(4)
  if r == 0 then return 0 elseif r == 1 then return 1 end
  return 2 + rng.below(6)
end

local function string_value(rng, size)
  if size.huge then
    return string.rep(HUGE_UNIT, ONE_MIB // #HUGE_UNIT + 1)
  end
  local r = rng.below(5)
  if r == 0 then return ""
  elseif r == 1 then return "\u{fc}n\u{ef}c\u{f8}d\u{e9} \u{2713} \u{1f980}"
  elseif r == 2 then return "a" end
  local len = rng.below(24)
  local bytes = {}
  for i = 1, len do bytes[i] = 32 + rng.below(95) end
  return string.char(table.unpack(bytes))
end

local SCALARS = {
  bool = function(rng) return rng.below(2) == 1 end,
  u8 = function(rng) return pick(rng, { 0, 1, 255, 0x80 }) & 0xff end,
  s8 = function(rng) return sign_extend(pick(rng, { 0, -1, -128, 127 }), 8) end,
  u16 = function(rng) return pick(rng, { 0, 1, 0xffff, 0x8000 }) & 0xffff end,
  s16 = function(rng) return sign_extend(pick(rng, { 0, -1, -32768, 32767 }), 16) end,
  u32 = function(rng) return pick(rng, { 0, 1, 0xffffffff, 0x80000000 }) & 0xffffffff end,
  s32 = function(rng) return sign_extend(pick(rng, { 0, -1, -2147483648, 2147483647 }), 32) end,
  u64 = function(rng) return pick(rng, { 0, 1, -1, math.mininteger }) end,
  s64 = function(rng) return pick(rng, { 0, -1, math.mininteger, math.maxinteger }) end,
  f32 = function(rng) return to_f32(pick_float(rng)) end,
  f64 = function(rng) return pick_float(rng) end,
  char = function(rng) return CHARS[rng.below(#CHARS) + 1] end,
  string = string_value,
  -- An error-context is its debug message in Lua; val's carry their tag.
  ["error-context"] = function(rng) return "val error-context " .. (rng.next() & 0xffffffff) end,
}

-- A value stored where `nil` would leave a hole (a list or stream element,
-- a map value, a result's or an outer option's payload, a future's value):
-- there the Lua mapping spells `none` as `wit.none`.
local function slot(value)
  if value == nil then return wit.none end
  return value
end

-- A generated value; resources appear as { __tag = n }.
function M.value(ty, rng, size)
  local scalar = SCALARS[ty]
  if scalar then return scalar(rng, size) end
  local inner = { depth = math.max(size.depth - 1, 0), huge = false }
  local k = ty.k
  if k == "record" then
    local t = {}
    for _, field in ipairs(ty.fields) do t[field[1]] = M.value(field[2], rng, inner) end
    return t
  elseif k == "tuple" then
    local t = {}
    for i, item in ipairs(ty.items) do t[i] = M.value(item, rng, inner) end
    return t
  elseif k == "flags" then
    local count = #ty.names
    local mask = count >= 32 and 0xffffffff or ((1 << count) - 1)
    local bits = rng.next() & 0xffffffff & mask
    local set = {}
    for i, name in ipairs(ty.names) do
      if bits & (1 << (i - 1)) ~= 0 then set[name] = true end
    end
    return set
  elseif k == "enum" then
    return ty.names[rng.below(#ty.names) + 1]
  elseif k == "variant" then
    local case = ty.cases[rng.below(#ty.cases) + 1]
    local value = nil
    if case[2] then value = M.value(case[2], rng, inner) end
    return { tag = case[1], value = value }
  elseif k == "option" then
    if rng.below(2) == 0 then return nil end
    local value = M.value(ty.some, rng, inner)
    if ty.wrapped then return { some = slot(value) } end
    return value
  elseif k == "result" then
    -- Not `ty.ok and value or true`: a `false` payload would become `true`.
    local side = rng.below(2) == 0 and "ok" or "err"
    if not ty[side] then return { [side] = true } end
    return { [side] = slot(M.value(ty[side], rng, inner)) }
  elseif k == "list" then
    local len = length(rng, size)
    local items = {}
    for i = 1, len do items[i] = slot(M.value(ty.item, rng, inner)) end
    if ty.bytes then return string.char(table.unpack(items)) end
    return items
  elseif k == "map" then
    local len = length(rng, size)
    local map = {}
    for _ = 1, len do
      local key = M.value(ty.key, rng, inner)
      local value = slot(M.value(ty.value, rng, inner))
      if map[key] == nil then map[key] = value end
    end
    return map
  elseif k == "own" or k == "borrow" then
    return { __tag = rng.next() & 0xffffffff }
  elseif k == "future" then
    -- Futures and streams stand for what goes through them (see `M.open`).
    if ty.payload then return { slot(M.value(ty.payload, rng, inner)) } end
    return {}
  elseif k == "stream" then
    if ty.bytes and size.huge then
      local n = ONE_MIB + 17
      return BYTE_PATTERN:rep(n // #BYTE_PATTERN + 1):sub(1, n)
    end
    local len = length(rng, size)
    if not ty.item then return len end
    local items = {}
    for i = 1, len do items[i] = slot(M.value(ty.item, rng, inner)) end
    if ty.bytes then return string.char(table.unpack(items)) end
    return items
  end
  error("no test values for type " .. tostring(k))
end

-- Rebuilds `value` of type `ty`, passing every resource through `f(kind, res, v)`.
local function map_resources(ty, value, f)
  if type(ty) == "string" or value == nil or value == wit.none then return value end
  local k = ty.k
  if k == "own" or k == "borrow" then return f(k, ty.res, value) end
  if k == "record" then
    local t = {}
    for _, field in ipairs(ty.fields) do t[field[1]] = map_resources(field[2], value[field[1]], f) end
    return t
  elseif k == "tuple" then
    local t = {}
    for i, item in ipairs(ty.items) do t[i] = map_resources(item, value[i], f) end
    return t
  elseif k == "variant" then
    for _, case in ipairs(ty.cases) do
      if case[1] == value.tag and case[2] then
        return { tag = value.tag, value = map_resources(case[2], value.value, f) }
      end
    end
    return value
  elseif k == "option" then
    if ty.wrapped then return { some = map_resources(ty.some, value.some, f) } end
    return map_resources(ty.some, value, f)
  elseif k == "result" then
    if value.ok ~= nil and ty.ok then return { ok = map_resources(ty.ok, value.ok, f) } end
    if value.err ~= nil and ty.err then return { err = map_resources(ty.err, value.err, f) } end
    return value
  elseif k == "list" and not ty.bytes then
    local t = {}
    for i = 1, #value do t[i] = map_resources(ty.item, value[i], f) end
    return t
  elseif k == "map" then
    local t = {}
    for key, v in pairs(value) do t[map_resources(ty.key, key, f)] = map_resources(ty.value, v, f) end
    return t
  elseif k == "future" and ty.payload then
    return { map_resources(ty.payload, value[1], f) }
  elseif k == "stream" and ty.item and not ty.bytes then
    local t = {}
    for i = 1, #value do t[i] = map_resources(ty.item, value[i], f) end
    return t
  end
  return value
end

-- Tags → handles or objects, to pass a generated value; handles created for
-- borrows are added to `lent` so that the caller drops them afterwards.
function M.materialize(ty, value, lent)
  return map_resources(ty, value, function(kind, res, v)
    local object = res.class.new(v.__tag)
    if kind == "borrow" and lent then lent[#lent + 1] = object end
    return object
  end)
end

-- Handles or objects → tags, to compare a received value; owned handles of
-- imported resources are dropped.
function M.resolve(ty, value)
  return map_resources(ty, value, function(kind, res, v)
    if res.exported then return { __tag = v.tag_value } end
    local tag = v:tag()
    if kind == "own" then v:drop() end
    return { __tag = tag }
  end)
end

local function same_float(a, b)
  if a ~= a and b ~= b then return true end
  return string.pack("<d", a) == string.pack("<d", b)
end

function M.equal(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then
    if math.type(a) ~= math.type(b) then return false end
    if math.type(a) == "float" then return same_float(a, b) end
    return a == b
  end
  if type(a) ~= "table" then return a == b end
  for key, value in pairs(a) do
    if not M.equal(value, b[key]) then return false end
  end
  for key in pairs(b) do
    if a[key] == nil then return false end
  end
  return true
end

function M.show(value)
  if type(value) == "table" then
    local parts = {}
    for key, v in pairs(value) do parts[#parts + 1] = tostring(key) .. "=" .. M.show(v) end
    table.sort(parts)
    return "{" .. table.concat(parts, ", ") .. "}"
  elseif type(value) == "string" and #value > 60 then
    return string.format("<string of %d bytes>", #value)
  elseif value == wit.none then
    return "wit.none"
  end
  return string.format("%q", value)
end

function M.check(what, ty, actual, expected)
  local resolved = M.resolve(ty, actual)
  if not M.equal(resolved, expected) then
    error(what .. " is " .. M.show(resolved) .. ", expected " .. M.show(expected), 2)
  end
end

-- Futures and streams. A generated value stands for their contents: the
-- side that passes one creates it and writes the contents from a task of its
-- own (`M.open`); the side that receives one reads it to the end (`M.drain`)
-- and compares the contents. `policy` (a function's name) makes a few
-- functions stop early or cancel, as in the val interpreter:
-- * early-reader: the reader closes the stream after one element;
-- * early-writer: the writer closes it after half of the elements;
-- * cancel-read: the reader cancels a waiting read and closes the future,
--   the writer writes only once the call returned and finds it closed;
-- * cancel-write: the writer cancels a waiting write before anyone can read,
--   then writes again.
local CHUNK = 64 * 1024

-- Ends this component holds, and the writes and reads in progress: when
-- none is, no end may be open.
local open_ends, busy = 0, 0

function M.settled(where)
  if busy == 0 and open_ends ~= 0 then
    error(open_ends .. " future or stream ends left open at " .. where)
  end
end

local function count_of(ty, contents)
  if not ty.item then return contents end
  return #contents
end

local function slice(ty, contents, from, n)
  if ty.bytes then return contents:sub(from, from + n - 1) end
  if not ty.item then return n end
  return table.move(contents, from, from + n - 1, 1, {})
end

-- The contents the reader should see of `expected` under `policy`.
function M.expected(policy, ty, actual, expected)
  if type(ty) ~= "table" then return expected end
  if ty.k == "stream" and policy == "early-reader" then
    local n = count_of(ty, actual)
    if n > 1 then error("early-reader read " .. n .. " elements") end
    return slice(ty, expected, 1, n)
  elseif ty.k == "stream" and policy == "early-writer" then
    return slice(ty, expected, 1, count_of(ty, expected) // 2)
  elseif ty.k == "future" and policy == "cancel-read" and #actual == 0 then
    return {}
  end
  return expected
end

-- A new future or stream carrying `contents`, written by a task; returns
-- the readable end. Other values are returned as they are.
function M.open(ty, contents, policy, returned)
  if type(ty) ~= "table" or (ty.k ~= "stream" and ty.k ~= "future") then return contents end
  local reader, writer
  if ty.k == "stream" then
    reader, writer = wit.stream(ty.spelling)
  else
    reader, writer = wit.future(ty.spelling)
  end
  open_ends = open_ends + 1
  busy = busy + 1
  local write
  if ty.k == "stream" then
    local total = count_of(ty, contents)
    if policy == "early-writer" then total = total // 2 end
    write = function()
      local written = 0
      while written < total do
        local n, why = writer:write(slice(ty, contents, written + 1, math.min(CHUNK, total - written)))
        if why == "closed" then
          if policy ~= "early-reader" then error("the reader of a " .. tostring(writer) .. " closed it early") end
          break
        end
        written = written + n
      end
    end
  else
    local payload = nil
    if ty.payload then payload = M.open(ty.payload, contents[1], "normal", returned) end
    if policy == "cancel-write" then
      -- Nobody can read yet (the readable end is still ours): the write
      -- waits, and is cancelled.
      local first = wit.spawn(function() return writer:write(payload) end)
      if first:done() then error("a write to a future nobody could read completed") end
      if not writer:cancel() then error("no write to cancel") end
    end
    write = function()
      if policy == "cancel-read" then
        while not returned.value do wit.yield() end
      end
      local delivered, why = writer:write(payload)
      if delivered ~= (policy ~= "cancel-read") then
        error("a future write ended with " .. tostring(delivered) .. ", " .. tostring(why))
      end
    end
  end
  wit.spawn(function()
    write()
    writer:close()
    open_ends = open_ends - 1
    busy = busy - 1
  end)
  return reader
end

local read_all

-- The contents of a received future or stream, read to the end (see
-- `M.open`); other values are returned as they are.
function M.drain(ty, value, policy)
  if type(ty) ~= "table" or (ty.k ~= "stream" and ty.k ~= "future") then return value end
  busy = busy + 1
  local contents = read_all(ty, value, policy)
  busy = busy - 1
  return contents
end

function read_all(ty, value, policy)
  open_ends = open_ends + 1
  if ty.k == "stream" then
    local parts, count = {}, 0
    while true do
      local got = value:read(policy == "early-reader" and 1 or CHUNK)
      if got == nil then break end
      if ty.item then parts[#parts + 1] = got else count = count + got end
      if policy == "early-reader" then break end
    end
    value:close()
    open_ends = open_ends - 1
    if ty.bytes then return table.concat(parts) end
    if not ty.item then return count end
    local items = {}
    for _, part in ipairs(parts) do table.move(part, 1, #part, #items + 1, items) end
    return items
  end
  if policy == "cancel-read" then
    -- The writer waits for the call to return: the read waits, and closing
    -- the future cancels it.
    local read = wit.spawn(function() return value:read() end)
    if read:done() then error("a read from a future nobody had written completed") end
    value:close()
    local _, why = read:join()
    if why ~= "cancelled" then error("a cancelled read ended with " .. tostring(why)) end
    open_ends = open_ends - 1
    return {}
  end
  local got, why = value:read()
  if why ~= nil then error("a future was dropped without a value (" .. why .. ")") end
  open_ends = open_ends - 1
  if ty.payload then return { M.drain(ty.payload, got, "normal") } end
  return {}
end

-- Drops what a call lent and checks its result (the caller's side).
function M.check_result(f, iteration, result, lent)
  for _, handle in ipairs(lent) do handle:drop() end
  if f.result then
    local expected = M.value(f.result, M.rng(M.seed(f.name, iteration, true)), M.size(iteration))
    expected = M.expected(f.policy, f.result, result, expected)
    M.check("result of `" .. f.name .. "`", f.result, result, expected)
  end
end

-- An export that checks its arguments against the seed of its n-th call and
-- returns the seeded result. An async one first suspends once, so that calls
-- overlap, and reads the futures and streams it receives.
function M.callee(f)
  local count = 0
  local function respond(args)
    local iteration = count
    count = count + 1
    local size = M.size(iteration)
    local rng = M.rng(M.seed(f.name, iteration, false))
    for i, ty in ipairs(f.params) do
      local expected = M.expected(f.policy, ty, args[i], M.value(ty, rng, size))
      M.check("argument " .. (i - 1) .. " of `" .. f.name .. "`", ty, args[i], expected)
    end
    if f.result then
      return M.materialize(f.result, M.value(f.result, M.rng(M.seed(f.name, iteration, true)), size))
    end
  end
  if not f.async then
    return function(...) return respond(table.pack(...)) end
  end
  return function(...)
    M.settled("`" .. f.name .. "`")
    local args = table.pack(...)
    wit.yield()
    for i, ty in ipairs(f.params) do args[i] = M.drain(ty, args[i], f.policy) end
    local result = respond(args)
    if f.result then return M.open(f.result, result, f.policy, { value = true }) end
  end
end

-- An exported resource class in the matrix convention.
function M.class()
  local class = {}
  class.__index = class
  function class.new(tag) return setmetatable({ tag_value = tag }, class) end
  function class.tag(self) return self.tag_value end
  return class
end

return M
