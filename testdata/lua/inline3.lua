-- Three levels of inlining inside one trace: the loop in outer() calls mid(), mid() calls leaf(); LuaJIT
-- inlines both calls into outer's loop trace, so the trace's frame (at g->jit_base) is outer's while most
-- work happens in leaf. Expected stacks: main chunk -> outer -> mid -> leaf.
-- arg[1]: seconds of CPU time to run; arg[2]: iterations of outer's loop between clock checks (default 1e6; a
-- larger count keeps the process out of the kernel's clock_gettime for seconds: StackCoreLuajitIT's cores).
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
local n = tonumber(arg and arg[2]) or 1000000
local s = 0
while os.clock() - t0 < secs do
  s = s + outer(n)
end
io.write(s > 0 and "" or "0")
