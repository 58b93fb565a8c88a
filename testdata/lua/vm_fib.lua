-- multivm fixture workload: recursive fib plus a summing loop (its own protos, its own traces).
-- Usage (under testdata/luajit/multivm.c or plain luajit): vm_fib.lua [seconds]
local dir = arg and arg[0] and arg[0]:match("^(.*/)") or "./"
local truth = dofile(dir .. "jit_truth.lua")

local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local function sum_fibs(k)
  local s = 0
  for i = 1, k do s = s + fib(i % 20) end
  return s
end

local t0 = os.clock()
local seconds = tonumber(arg and arg[1]) or 0.2
repeat sum_fibs(200) until os.clock() - t0 >= seconds
truth.dump()
