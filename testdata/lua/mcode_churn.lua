-- mcode churn for MmapEventsIT: with a 64 KiB machine-code budget (jit.opt sizemcode/maxmcode), every new trace
-- commit toggles the area's protection (mprotect) and every full area is flushed and mapped again (munmap, mmap):
-- a small-scale version of the mcode allocation storms of busy LuaJIT hosts. compile_one loads a new chunk per call
-- and runs its loop until it is hot, so compile_one is on the stack of every compile.
--   luajit mcode_churn.lua GO_FILE COMPILES
-- Waits for GO_FILE to exist (so the observers can attach first), compiles, prints "compiled N", then blocks on
-- stdin (the process stays alive and its counters with it) until stdin closes.
jit.opt.start("sizemcode=64", "maxmcode=64")
local go, count = arg[1], tonumber(arg[2]) or 20000

local function compile_one(i)
  local f = load("local s = 0 for j = 1, 300 do s = s + j % " .. (i % 97 + 2) .. " end return s")
  local r = f()
  return r
end

dofile((arg[0]:match("^(.*/)") or "./") .. "go_gate.lua")(go)
for i = 1, count do
  compile_one(i)
end
print("compiled " .. count)
io.stdout:flush()
io.read("*a")
