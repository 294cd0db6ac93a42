-- An HTTP handler for `wasi:http/proxy@0.2.12` (world `handler` in wit/):
-- routes on method and path, reads request bodies, sets headers, streams a
-- response body, and answers 404 (no route) and 500 (a route that fails).
-- See README.md for building and serving it.

local http = require("helpers.http")

-- The request's body: read lazily, so that routes that ignore it do not
-- pay for it.
local function body_of(ctx)
  return http.read_body(ctx.request, 16 * 1024 * 1024)
end

local routes = {}

routes["GET /"] = function(ctx)
  http.respond(ctx.out, 200, { ["content-type"] = "text/plain; charset=utf-8" },
    "Hello from Lua!\n")
end

-- `GET /hello/NAME`: a greeting, with a header saying whom.
routes["GET /hello/"] = function(ctx, name)
  http.respond(ctx.out, 200, {
    ["content-type"] = "text/plain; charset=utf-8",
    ["x-greeted"] = name,
  }, "Hello, " .. name .. "!\n")
end

-- `POST /echo`: the request body back, with its content type.
routes["POST /echo"] = function(ctx)
  local body = body_of(ctx)
  http.respond(ctx.out, 200, {
    ["content-type"] = ctx.headers["content-type"] or "application/octet-stream",
    ["x-body-length"] = #body,
  }, body)
end

-- `GET /count?n=N`: N lines, written one at a time (a streamed body: the
-- client gets the status and first lines before the last is written).
routes["GET /count"] = function(ctx)
  local n = tonumber(ctx.query and ctx.query:match("n=(%d+)")) or 10
  local writer = http.start(ctx.out, 200, { ["content-type"] = "text/plain" })
  for i = 1, n do
    writer:write(i .. "\n")
  end
  writer:finish()
end

-- `GET /bytes?n=N`: N bytes of a repeating pattern, for large bodies.
routes["GET /bytes"] = function(ctx)
  local n = math.tointeger(tonumber(ctx.query and ctx.query:match("n=(%d+)"))) or 0
  local pattern = "0123456789abcdef"
  local block = pattern:rep(4096) -- 64 KiB
  local writer = http.start(ctx.out, 200, {
    ["content-type"] = "application/octet-stream",
    ["content-length"] = n,
  })
  while n > 0 do
    local piece = n >= #block and block or block:sub(1, n)
    writer:write(piece)
    n = n - #piece
  end
  writer:finish()
end

-- `GET /fail`: a route that fails; the handler below answers 500.
routes["GET /fail"] = function(_ctx)
  error("this route fails on purpose")
end

-- The route for `method` and `path`: exact, or by prefix for routes that
-- end in `/` (the rest of the path is passed on).
local function route(method, path)
  local exact = routes[method .. " " .. path]
  if exact then
    return exact
  end
  for key, handler in pairs(routes) do
    local prefix = key:match("^" .. method .. " (.+/)$")
    if prefix and #path > #prefix and path:sub(1, #prefix) == prefix then
      return handler, path:sub(#prefix + 1)
    end
  end
end

local function handle(request, out)
  local ctx = http.request(request)
  ctx.request, ctx.out = request, out
  local handler, rest = route(ctx.method, ctx.path)
  if not handler then
    -- Headers as a list of pairs (names may repeat).
    http.respond(out, 404, { { "content-type", "text/plain" }, { "vary", "accept" }, { "vary", "origin" } },
      "no route for " .. ctx.method .. " " .. ctx.path .. "\n")
    return
  end
  local done, err = pcall(handler, ctx, rest)
  if not done then
    -- The server's log gets the details (stderr), the client a short
    -- message. A route that had started its response already has used up
    -- `out`: then `respond` raises, and the server cuts the body short.
    io.stderr:write("route ", ctx.method, " ", ctx.path, " failed: ", tostring(err), "\n")
    http.respond(out, 500, { ["content-type"] = "text/plain" }, "internal error\n")
  end
end

return {
  ["wasi:http/incoming-handler@0.2.12"] = { handle = handle },
}
