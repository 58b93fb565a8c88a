-- Three levels of inlining inside one trace: the loop in outer() calls mid(), mid() calls leaf(); LuaJIT
-- inlines both calls into outer's loop trace, so the trace's frame (at g->jit_base) is outer's while most
-- work happens in leaf. Expected stacks: main chunk -> outer -> mid -> leaf.
-- arg[1]: seconds of CPU time to run (with arg[2]: the most it runs).
-- arg[2] (optional): a directory through which a test gives jit.p the same window as its own recording: when
-- the file "start" appears there, jit.p starts with the options and output file it names ("fl1 /path"); when
-- "stop" appears, jit.p stops (writing its report) and the script ends. Checked every 20 ms of CPU time.
local function leaf(x)
  local y = x * 3 % 11
  y = y + x % 5
  return y
end

local function mid(x)
  local z = leaf(x) + 1
  return z % 13
end

local function outer(n)
  local acc = 0
  for i = 1, n do
    acc = acc + mid(i)
  end
  return acc
end

local t0 = os.clock()
local secs = tonumber(arg and arg[1]) or 3
local control = arg and arg[2]
local profiler, nextCheck = nil, 0

local function exists(name)
  local f = io.open(control .. "/" .. name)
  if f then f:close() end
  return f ~= nil
end

local s = 0
while os.clock() - t0 < secs do
  s = s + outer(1000000)
  if control and os.clock() >= nextCheck then
    nextCheck = os.clock() + 0.02
    if not profiler and exists("start") then
      local f = io.open(control .. "/start")
      local opts, out = f:read("*l"):match("^(%S+)%s+(%S+)$")
      f:close()
      profiler = require("jit.p")
      profiler.start(opts, out)
    elseif profiler and exists("stop") then
      profiler.stop()
      break
    end
  end
end
io.write(s > 0 and "" or "0")
