-- `require("helpers.http3")`: helpers for `wasi:http/service@0.3.x`
-- handlers, in plain Lua over the raw imports (`require("wasi:http/types@0.3.x")`,
-- still available as `helpers.types`). A 0.3 handler is an async export:
-- it reads the request body as a stream and may return its response while
-- it goes on writing the body (see `respond`).

local types, types_name
for name in pairs(package.preload) do
  if name:match("^wasi:http/types@0%.3%.") then
    types, types_name = require(name), name
  end
end
if not types then
  error("helpers.http3 needs a world that imports wasi:http/types@0.3.x (e.g. wasi:http/service)", 2)
end

local http = { types = types }

local METHODS = {
  get = "GET", head = "HEAD", post = "POST", put = "PUT", delete = "DELETE",
  connect = "CONNECT", options = "OPTIONS", trace = "TRACE", patch = "PATCH",
}

-- `fields` as a Lua table: lower-case name to value (values of a repeated
-- name joined with ", ").
local function headers_of(fields)
  local headers = {}
  for _, entry in ipairs(fields:copy_all()) do
    local name, value = entry[1]:lower(), entry[2]
    headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
  end
  return headers
end

-- A `fields` from a Lua table of name to value.
local function fields_of(headers)
  local entries = {}
  for name, value in pairs(headers or {}) do
    entries[#entries + 1] = { name, tostring(value) }
  end
  local made = types.fields.from_list(entries)
  if made.err then
    error("invalid headers: " .. tostring(made.err), 3)
  end
  return made.ok
end

-- The request as a table: `method` ("GET", or the name of another method),
-- `path` (with the query), `query` (a table of its parameters), `headers`
-- (see `headers_of`), and `body`, which reads the whole body (once) and
-- returns it as a string; `chunks()` iterates over it as it arrives instead.
function http.request(request)
  local method = request:get_method()
  local path = request:get_path_with_query() or "/"
  local query = {}
  for key, value in (path:match("%?(.*)$") or ""):gmatch("([^&=]+)=?([^&]*)") do
    query[key] = value
  end
  local contents, consumed
  local function stream()
    if not contents then
      -- The host learns through `done` that the body was read.
      local done, done_out = wit.future("result<_, error-code>", types_name)
      contents = types.request.consume_body(request, done)[1]
      consumed = done_out
    end
    return contents
  end
  local function finish()
    if consumed then
      consumed:write({ ok = true })
      consumed = nil
    end
  end
  local req = {
    method = METHODS[method.tag] or (method.value or method.tag),
    path = path,
    route = path:match("^[^?]*"),
    query = query,
    headers = headers_of(request:get_headers()),
  }
  function req.chunks()
    local body = stream()
    return function()
      local chunk = body:read()
      if chunk == nil then
        finish()
      end
      return chunk
    end
  end
  function req.body()
    local parts = {}
    for chunk in req.chunks() do
      parts[#parts + 1] = chunk
    end
    return table.concat(parts)
  end
  return req
end

-- The result `handle` returns: a response with `status`, `headers` (a
-- table of name to value) and `body`. The body is a string, or a function
-- that receives `write(text)` and writes the body piece by piece; the
-- response goes out at once and the function goes on (in a task of its
-- own) while the client reads. `write` returns false once the client has
-- gone.
function http.respond(status, headers, body)
  local contents, out = wit.stream("u8")
  local trailers, trailers_out = wit.future("result<option<fields>, error-code>", types_name)
  local response = types.response.new(fields_of(headers), contents, trailers)[1]
  if response:set_status_code(status).err then
    error("invalid status code " .. tostring(status), 2)
  end
  wit.spawn(function()
    local open = true
    local function write(text)
      if open and #text > 0 then
        local _, why = out:write(text)
        open = why ~= "closed"
      end
      return open
    end
    if type(body) == "function" then
      body(write)
    elseif body ~= nil then
      write(tostring(body))
    end
    out:close()
    trailers_out:write({ ok = wit.none })
  end)
  return { ok = response }
end

-- A plain-text response.
function http.text(status, text, headers)
  headers = headers or {}
  headers["content-type"] = headers["content-type"] or "text/plain; charset=utf-8"
  return http.respond(status, headers, text)
end

-- Encodes a Lua value as JSON: tables with keys 1..n are arrays, other
-- tables objects (keys sorted); strings, numbers, booleans and `nil`
-- (`null`) as themselves.
local function json(value, out)
  local kind = type(value)
  if kind == "table" then
    if #value > 0 or next(value) == nil then
      out[#out + 1] = "["
      for i, item in ipairs(value) do
        if i > 1 then out[#out + 1] = "," end
        json(item, out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for key in pairs(value) do keys[#keys + 1] = tostring(key) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, key in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        json(key, out)
        out[#out + 1] = ":"
        json(value[key], out)
      end
      out[#out + 1] = "}"
    end
  elseif kind == "string" then
    out[#out + 1] = '"' .. value:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif kind == "number" or kind == "boolean" then
    out[#out + 1] = tostring(value)
  elseif value == nil then
    out[#out + 1] = "null"
  else
    error("cannot encode a " .. kind .. " as JSON", 3)
  end
end

-- A JSON response of a Lua table (see `json`).
function http.json(status, value, headers)
  local out = {}
  json(value, out)
  headers = headers or {}
  headers["content-type"] = "application/json"
  return http.respond(status, headers, table.concat(out))
end

return http
