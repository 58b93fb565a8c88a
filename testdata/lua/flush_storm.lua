-- Flush storms for moonwalk's JIT health tests.
-- Usage: luajit flush_storm.lua flush <seconds>     jit.flush() in a loop, with hot work in between so traces
--                                                   and mcode areas are re-created after every flush
--        luajit flush_storm.lua maxmcode <seconds>  maxmcode=64 KB: ever new hot loops exhaust the mcode limit,
--                                                   and LuaJIT flushes everything each time it runs out
-- Both are bounded in time and print "FLUSHES <n>" (flush events LuaJIT reported) and "END" at the end.
-- A third argument <calm seconds> keeps the process running hot, unflushed code (calm()) that long after the
-- storm, announced by "CALM": profiling must be complete again there (no stale mcode routes left behind).
local dir = arg and arg[0] and arg[0]:match("^(.*/)") or "./"
local truth = dofile(dir .. "jit_truth.lua")

local mode = arg[1] or "flush"
local seconds = tonumber(arg[2]) or 2

local function hot(n)
  local s = 0
  for i = 1, n do s = s + (i % 13) end
  return s
end

-- A distinct function (own proto, own loop -> own trace) per k.
local function fresh(k)
  return assert(load(string.format(
    "local s = 0 for i = 1, 300 do s = s + (i %% %d) * %d end return s", 3 + k % 97, k)))
end

truth.emit("THREAD", truth.thread())
truth.emit("STARTED", mode)
io.flush()
local t0 = os.clock()
local rounds = 0
if mode == "flush" then
  repeat
    hot(20000)
    for k = 1, 20 do fresh(k)() end
    jit.flush()
    rounds = rounds + 1
  until os.clock() - t0 >= seconds
elseif mode == "maxmcode" then
  jit.opt.start("maxmcode=64", "sizemcode=32", "hotloop=2")
  local k = 0
  repeat
    k = k + 1
    local f = fresh(k)
    f() f() f()
    rounds = rounds + 1
  until os.clock() - t0 >= seconds
else
  error("unknown mode " .. mode)
end
truth.emit("ROUNDS", rounds)
truth.emit("FLUSHES", truth.flushes())
local calm_seconds = tonumber(arg[3]) or 0
if calm_seconds > 0 then
  local function calm(n)
    local s = 0
    for i = 1, n do s = s + (i % 7) * 3 end
    return s
  end
  truth.emit("CALM", calm_seconds)
  io.flush()
  local t1 = os.clock()
  repeat calm(100000) until os.clock() - t1 >= calm_seconds
end
truth.emit("END")
