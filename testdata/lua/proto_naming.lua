-- Ground truth for moonwalk's proto reader and frame namer (unwinder-luajit tests).
-- Prints, from LuaJIT itself: functions (address, debug.getinfo "S", the proto address jit.util reports),
-- the line of every bytecode pc, and for each call below the name/namewhat LuaJIT gives the callee together
-- with the caller's function and current line. Then it serves commands on stdin until EOF.
local ju = require("jit.util")

local function emit(...)
  local t = { ... }
  for i = 1, #t do t[i] = tostring(t[i]) end
  io.write(table.concat(t, "\t"), "\n")
end

local function addr(f) return (tostring(f):match("0x%x+")) end

local keepalive = {}
local function describe(label, f)
  keepalive[#keepalive + 1] = f
  local i = debug.getinfo(f, "S")
  local fi = ju.funcinfo(f)
  emit("FUNC", label, addr(f), tostring(fi.proto):match("0x%x+"), i.linedefined, i.lastlinedefined,
       fi.bytecodes, i.short_src, (i.source:sub(1, 200):gsub("[\t\n]", " ")))
  local lines = {}
  for pc = 0, fi.bytecodes do lines[#lines + 1] = ju.funcinfo(f, pc).currentline end
  emit("LINES", label, table.concat(lines, ","))
  local bcs = {}
  for pc = 0, fi.bytecodes - 1 do
    local ins, m = ju.funcbc(f, pc)
    bcs[#bcs + 1] = string.format("%d:%d", ins, m)
  end
  emit("BC", label, table.concat(bcs, ","))
end

local function report()
  local n = debug.getinfo(2, "n")
  local caller = debug.getinfo(3, "fl")
  emit("CALL", n.name, n.namewhat, addr(caller.func) or tostring(caller.func), caller.currentline)
end

-- the ways a function can be defined and called
function global_fn() report() end
local function local_fn() report() end
M = {}
function M.field_fn() report() end
local obj = {}
function obj:method_fn() report() end
local up_fn = function() report() end
local function calls_upvalue()
  up_fn()
end
local meta = setmetatable({}, { __index = function(t, k) report() return 1 end })
local anon = (function() return function() report() end end)()
deep = { a = { b = {} } }
function deep.a.b.leaf() report() end
local function gen(s, c) report() if c < 1 then return c + 1 end end
local aliased = local_fn

describe("main", debug.getinfo(1, "f").func)
describe("global_fn", global_fn)
describe("local_fn", local_fn)
describe("field_fn", M.field_fn)
describe("method_fn", obj.method_fn)
describe("up_fn", up_fn)
describe("calls_upvalue", calls_upvalue)
describe("anon", anon)
describe("leaf", deep.a.b.leaf)
describe("gen", gen)

global_fn()
local_fn()
M.field_fn()
obj:method_fn()
calls_upvalue()
local v = meta.missing
pcall(anon)
deep.a.b.leaf()
for x in gen, nil, 0 do end
aliased()
local t = { f = local_fn }
t.f()
local s = string.gsub("ab", "%w", function(c) report() return c end)

-- lineinfo widths: u8 (above), u16 (>= 256 lines), u32 (>= 65536 lines)
local src16 = "local x = 0\n" .. string.rep("x = x + 1\n\n\n", 100) .. "return x\n"
describe("chunk16", assert(loadstring(src16, "@gen16.lua")))
local src32 = "local x = 0\n" .. string.rep("\n", 70000) .. "x = x + 1\n" .. string.rep("\n", 10)
    .. "return function()\n  return x\nend\n"
local chunk32 = assert(loadstring(src32, "=gen32"))
describe("chunk32", chunk32)
describe("inner32", chunk32())
describe("unnamed", assert(loadstring("return 1 + 2\n-- an unnamed chunk shows its source text")))

-- staleness: protos that are freed and whose addresses get reused by other protos
local keep, victims = {}, {}
for i = 1, 200 do
  victims[i] = assert(loadstring("local a = 1 return a + 1", "=victim_" .. i))
  emit("VICTIM", addr(victims[i]), tostring(ju.funcinfo(victims[i]).proto):match("0x%x+"), i)
end
emit("READY")
io.stdout:flush()

for line in io.lines() do
  if line == "drop" then
    victims = nil
    collectgarbage() collectgarbage() collectgarbage()
    for i = 1, 400 do
      keep[i] = assert(loadstring("local a = 1 return a + 1", "=other_" .. i))
    end
    for i = 1, 400 do
      emit("NEW", addr(keep[i]), tostring(ju.funcinfo(keep[i]).proto):match("0x%x+"), i)
    end
    emit("DONE")
    io.stdout:flush()
  end
end
