-- Trace aborts with known reasons and sites, for moonwalk's abort figures; run it under `luajit -jv` and
-- compare with what jit.v prints. Three kinds, each in its own function:
--   nyi_ffunc: a loop calling ffi.typeof with a string (NYI: unsupported variant of FastFunc)
--   closures:  a loop creating a closure (NYI: bytecode 51, FNEW), aborted until blacklisted
--   unroll:    a loop around 20 short inner loops (leaving loop in root trace at each inner loop until they are
--              blacklisted, loop unroll limit reached and inner loop in root trace at the outer one)
-- Usage: luajit -jv trace_aborts.lua [rounds (300)] [spin seconds (0)]: after the rounds, an optional compilable
-- loop keeps the VM busy (for a sampling profiler) without further aborts.
-- Then it prints THREAD <lua_State>, COUNT <collectgarbage("count") KB> and READY and waits for a line on stdin
-- (the aborts and the heap stay as they are).
local ffi = require("ffi")

local function nyi_ffunc(n)
  local s = 0
  for i = 1, n do
    s = s + ffi.sizeof(ffi.typeof("int"))
  end
  return s
end

local function closures(n)
  local s = 0
  for i = 1, n do
    local f = function() return i end
    s = s + f()
  end
  return s
end

local function unroll(n)
  local s = 0
  for i = 1, n do
    for j = 1, 2 do s = s + j * 0 end
    for j = 1, 2 do s = s + j * 1 end
    for j = 1, 2 do s = s + j * 2 end
    for j = 1, 2 do s = s + j * 3 end
    for j = 1, 2 do s = s + j * 4 end
    for j = 1, 2 do s = s + j * 5 end
    for j = 1, 2 do s = s + j * 6 end
    for j = 1, 2 do s = s + j * 7 end
    for j = 1, 2 do s = s + j * 8 end
    for j = 1, 2 do s = s + j * 9 end
    for j = 1, 2 do s = s + j * 10 end
    for j = 1, 2 do s = s + j * 11 end
    for j = 1, 2 do s = s + j * 12 end
    for j = 1, 2 do s = s + j * 13 end
    for j = 1, 2 do s = s + j * 14 end
    for j = 1, 2 do s = s + j * 15 end
    for j = 1, 2 do s = s + j * 16 end
    for j = 1, 2 do s = s + j * 17 end
    for j = 1, 2 do s = s + j * 18 end
    for j = 1, 2 do s = s + j * 19 end
  end
  return s
end

local rounds = tonumber(arg and arg[1]) or 300
for _ = 1, rounds do
  nyi_ffunc(100)
  closures(100)
  unroll(100)
end
local spin = tonumber(arg and arg[2]) or 0
local t0, acc = os.clock(), 0
while os.clock() - t0 < spin do
  for i = 1, 100000 do acc = acc + i % 3 end
end
local anchor = coroutine.create(function() end)
-- reading stdin grows the VM's temporary buffer (counted in the heap): grow it before the figure is taken
local _ = #string.rep(" ", 16384)
-- a full collection first: an incremental step run by the allocations of the printout would otherwise free
-- garbage after the figure is taken; after a full cycle the next step is far above this heap
collectgarbage()
local kb = collectgarbage("count")
io.write("THREAD ", (tostring(anchor):match("0x%x+")), "\nCOUNT ", string.format("%.3f", kb), "\nREADY\n")
io.flush()
io.read()
