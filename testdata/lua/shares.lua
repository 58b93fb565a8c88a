-- A workload with a known call tree and designed CPU shares (LuajitWalkIT):
--   main chunk -> a        50 %   (500k iterations a call: call overhead stays out of the shares)
--   main chunk -> b -> c   30 %   (b does no work of its own; not a tail call, so c keeps its name)
--   main chunk -> pcall -> d  20 %  (d is named "function <shares.lua:N>" as LuaJIT's own tools name it)
-- Every function runs the same loop body, so the shares follow the iteration counts. Run with -joff.
-- arg[1]: seconds of CPU time to run.
function a() local x = 0 for i = 1, 500000 do x = x + i % 7 end return x end
function c() local x = 0 for i = 1, 300000 do x = x + i % 7 end return x end
function b() local r = c() return r end
function d() local x = 0 for i = 1, 200000 do x = x + i % 7 end return x end
local t0 = os.clock()
local secs = tonumber(arg and arg[1]) or 3
while os.clock() - t0 < secs do
  a()
  b()
  pcall(d)
end
