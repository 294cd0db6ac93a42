-- A script for tests/bindings.wit that uses every kind of type the
-- annotations of `lua-demo bindings` describe; it must check clean.
local store = require("test:bindings/store")
local world = require("world")

local bucket = store.bucket.new("b")
local got = bucket:get("k")
local text = ""
if got.ok then
  local entry = got.ok
  text = entry.key_name .. tostring(entry.hits or 0) .. tostring(entry["end"])
  local maybe = entry.maybe
  if maybe then
    text = text .. (maybe.some or "none")
  end
elseif got.err.tag == "denied" then
  text = got.err.value or ""
end
local put = bucket:put({ key_name = "k", ["end"] = 1 }, { read = true, dry_run = false })
if put.err then
  text = text .. "failed"
end
local opened = store.bucket.open("x")
if opened then
  opened:drop()
end
local total = store["then"](1)
for _, entry in ipairs(store.all(bucket)) do
  total = total + #entry.key_name
end
for _, pair in ipairs(store.pairs()) do
  local name, level = pair[1], pair[2]
  if level == "high_ish" then
    total = total + #name
  end
end
for name, count in pairs(store.counts()) do
  total = total + count + #name
end
total = total + world.now()
for _, gap in ipairs(store.gaps({ 1, wit.none }, { ok = wit.none }, { a = wit.none }, { some = wit.none })) do
  if gap ~= wit.none and gap.some ~= wit.none then
    total = total + gap.some
  end
end

local api = {}

function api.describe(entry)
  if entry.hits then
    return { ok = entry.key_name .. text .. tostring(total) }
  end
  return { err = { tag = "not_found" } }
end

local Cursor = {}
Cursor.__index = Cursor

function Cursor.new(start)
  return setmetatable({ at = start }, Cursor)
end

function Cursor:next()
  self.at = self.at + 1
  return self.at
end

function Cursor.make()
  return Cursor.new(0)
end

api.cursor = Cursor

---@type test.bindings.app.Exports
local exports = {
  api = api,
  run = function(pair)
    return pair.a == "high_ish" and pair.b.key_name ~= ""
  end,
}
return exports
