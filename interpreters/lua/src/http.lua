-- `require("helpers.http")`: helpers for `wasi:http/proxy@0.2.x` handlers,
-- in plain Lua over the raw imports (`require("wasi:http/types@0.2.x")`,
-- still available as `helpers.types`). They take away the steps that
-- every handler repeats: decoding the request's method and headers, reading
-- a body to its end, writing one in the pieces a stream accepts, and
-- releasing child resources (streams, bodies) in the order the host needs.

local types
for name in pairs(package.preload) do
  if name:match("^wasi:http/types@0%.2%.") then
    types = require(name)
  end
end
if not types then
  error("helpers.http needs a world that imports wasi:http/types@0.2.x (e.g. wasi:http/proxy)", 2)
end

local http = { types = types }

-- The most a blocking write takes at once (`blocking-write-and-flush`).
local WRITE_MAX = 4096
-- How much one read asks for.
local READ_MAX = 65536

local METHODS = {
  get = "GET", head = "HEAD", post = "POST", put = "PUT", delete = "DELETE",
  connect = "CONNECT", options = "OPTIONS", trace = "TRACE", patch = "PATCH",
}

-- A stream error or error code, as text.
local function describe(err)
  if type(err) ~= "table" then
    return tostring(err)
  end
  if err.tag == "last_operation_failed" then
    return err.value:to_debug_string()
  end
  if err.value ~= nil then
    return err.tag .. " (" .. tostring(err.value) .. ")"
  end
  return tostring(err.tag)
end

-- The value of result `r`, or an error saying what failed.
local function ok(r, what)
  if r.err ~= nil then
    error(what .. ": " .. describe(r.err), 3)
  end
  return r.ok
end

--- The request as a table: `method` ("GET", ...), `path` ("/a/b"),
--- `query` (the text after `?`, or nil), `authority`, and `headers`
--- (lower-case name -> value; repeated headers joined with ", ").
function http.request(request)
  local method = request:method()
  local target = request:path_with_query() or "/"
  local path, query = target:match("^([^?]*)%?(.*)$")
  local headers = {}
  local fields <close> = request:headers()
  for _, entry in ipairs(fields:entries()) do
    local name, value = entry[1]:lower(), entry[2]
    headers[name] = headers[name] and headers[name] .. ", " .. value or value
  end
  return {
    method = method.tag == "other" and method.value or METHODS[method.tag],
    path = path or target,
    query = query,
    authority = request:authority(),
    headers = headers,
  }
end

--- Reads the request's whole body (once per request). With `limit`, a
--- body longer than `limit` bytes is an error.
function http.read_body(request, limit)
  local body = ok(request:consume(), "the request body was already taken")
  local chunks, size = {}, 0
  do
    local stream <close> = ok(body:stream(), "the request body's stream was already taken")
    while true do
      local read = stream:blocking_read(READ_MAX)
      if read.err ~= nil then
        if read.err.tag == "closed" then break end
        error("reading the request body failed: " .. describe(read.err), 2)
      end
      size = size + #read.ok
      if limit and size > limit then
        error("the request body is longer than " .. limit .. " bytes", 2)
      end
      chunks[#chunks + 1] = read.ok
    end
  end
  -- The stream is gone: the body may now end (its trailers are not used).
  types.incoming_body.finish(body):drop()
  return table.concat(chunks)
end

local Writer = {}
Writer.__index = Writer

--- Sends `data` (a string of any length) as part of the body.
function Writer:write(data)
  for i = 1, #data, WRITE_MAX do
    local written = self.stream:blocking_write_and_flush(data:sub(i, i + WRITE_MAX - 1))
    if written.err ~= nil then
      error("writing the response body failed: " .. describe(written.err), 2)
    end
  end
end

--- Ends the body; the writer cannot be used afterwards.
function Writer:finish()
  self.stream:drop()
  ok(types.outgoing_body.finish(self.body, nil), "ending the response body failed")
end

-- Headers given as `{ name = value }` and/or `{ { name, value }, ... }`
-- (values may be numbers).
local function fields(headers)
  local entries = {}
  for key, value in pairs(headers or {}) do
    if type(key) == "number" then
      entries[#entries + 1] = { value[1], tostring(value[2]) }
    else
      entries[#entries + 1] = { key, tostring(value) }
    end
  end
  return ok(types.fields.from_list(entries), "invalid response headers")
end

--- Sends the status and headers at once and returns a writer for the
--- body: `w:write(text)` as often as needed, then `w:finish()`.
function http.start(out, status, headers)
  local response = types.outgoing_response.new(fields(headers))
  ok(response:set_status_code(status), "invalid status " .. tostring(status))
  local body = ok(response:body(), "the response body was already taken")
  types.response_outparam.set(out, { ok = response })
  local stream = ok(body:write(), "the response body's stream was already taken")
  return setmetatable({ body = body, stream = stream }, Writer)
end

--- Sends a whole response: status, headers and body (a string, or nil).
function http.respond(out, status, headers, body)
  local writer = http.start(out, status, headers)
  if body ~= nil and #body > 0 then
    writer:write(body)
  end
  writer:finish()
end

return http
