-- Prints "<ffid> <name>" for every built-in function the running LuaJIT can reach, as LuaJIT itself
-- numbers them (jit.util.funcinfo(f).ffid). Ground truth for moonwalk's fast-function name table.
local ju = require("jit.util")
local seen, out = {}, {}
local function visit(f, name)
  if type(f) ~= "function" or seen[f] then return end
  local ffid = ju.funcinfo(f).ffid
  if ffid and ffid > 1 then
    seen[f] = true
    out[#out + 1] = { ffid, name }
  end
end
local function sortedkeys(t)
  local ks = {}
  for k in pairs(t) do if type(k) == "string" then ks[#ks + 1] = k end end
  table.sort(ks)
  return ks
end
-- base library first so that e.g. "pairs" wins over any alias
for _, k in ipairs(sortedkeys(_G)) do visit(_G[k], k) end
local libs = { "string", "table", "math", "io", "os", "coroutine", "debug", "package", "bit", "jit", "ffi",
               "jit.util", "jit.opt", "jit.profile", "table.new", "table.clear", "thread.exdata",
               "table.isempty", "table.isarray", "table.nkeys", "table.clone", "thread.exdata2" }
for _, lib in ipairs(libs) do
  local ok, t = pcall(require, lib)
  if ok and type(t) == "table" then
    for _, k in ipairs(sortedkeys(t)) do visit(t[k], lib .. "." .. k) end
  elseif ok and type(t) == "function" then
    visit(t, lib)
  end
end
local fmeta = getmetatable(io.stdout)
if fmeta then
  for _, k in ipairs(sortedkeys(fmeta.__index)) do visit(fmeta.__index[k], "file:" .. k) end
  for _, k in ipairs(sortedkeys(fmeta)) do visit(fmeta[k], "file." .. k) end
end
-- FFI metatables, reachable only through debug.getmetatable
local okffi, ffi = pcall(require, "ffi")
if okffi then
  local mt = debug.getmetatable(ffi.new("int"))
  if type(mt) == "table" then
    for _, k in ipairs(sortedkeys(mt)) do visit(mt[k], "cdata." .. k) end
  end
  mt = debug.getmetatable(ffi.C)
  if type(mt) == "table" then
    for _, k in ipairs(sortedkeys(mt)) do visit(mt[k], "clib." .. k) end
  end
  local okcb, cb = pcall(ffi.cast, "void (*)(void)", function() end)
  if okcb then
    mt = debug.getmetatable(cb)
    if type(mt) == "table" and type(mt.__index) == "table" then
      for _, k in ipairs(sortedkeys(mt.__index)) do visit(mt.__index[k], "callback:" .. k) end
    end
    cb:free()
  end
end
table.sort(out, function(a, b) return a[1] < b[1] end)
for _, e in ipairs(out) do print(e[1] .. " " .. e[2]) end
