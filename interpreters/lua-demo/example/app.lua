-- The bundled example: implements `demo:app/api` and calls `demo:app/host`.
local host = require("demo:app/host")

local api = {}

function api.greet(name)
  host.log("greeting " .. name)
  return "Hello, " .. name .. "!"
end

-- Records arrive as tables keyed by field name; lists as sequences.
function api.summarize(cities)
  local lines = {}
  for i, city in ipairs(cities) do
    local weather = host.current_weather(city)
    lines[i] = string.format("%s: %.1f °C", weather.city, weather.celsius)
  end
  return lines
end

-- Variants arrive as { tag = "case", value = payload }.
function api.area(shape)
  if shape.tag == "circle" then
    return math.pi * shape.value ^ 2
  elseif shape.tag == "rectangle" then
    return shape.value[1] * shape.value[2]
  end
  return 0
end

-- An exported resource is a class: `new` is the constructor, the other
-- functions are its methods.
local Counter = {}
Counter.__index = Counter

function Counter.new(start)
  return setmetatable({ count = start }, Counter)
end

function Counter:increment(by)
  self.count = self.count + by
  return self.count
end

function Counter:value()
  return self.count
end

api.counter = Counter

-- The annotation lets an editor check the table against the world
-- (`lua-demo bindings --wit app.wit -o DIR` writes the classes).
---@type demo.app.app.Exports
local exports = { ["demo:app/api"] = api }
return exports
