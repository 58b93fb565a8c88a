-- Replay case luajit-interp: the interpreter's leaf (JIT off), three Lua functions deep under the luajit binary's
-- lua_pcall. The traceback is written on the line of the loop, so it is the stack at every moment of the core.
jit.off()
local function spin() local x = 0 io.stderr:write(debug.traceback("moonwalk-truth"), "\n") while true do x = x + 1 end end
local function middle() spin() return 1 end
function outer() middle() return 2 end
outer()
