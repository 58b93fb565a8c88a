-- Replay case luajit-gsub: the interpreter's leaf (JIT off) in a Lua callback of string.gsub, a C library function
-- that calls back into the VM (a second VM entry on the same lua_State).
jit.off()
local function spin() local x = 0 io.stderr:write(debug.traceback("moonwalk-truth"), "\n") while true do x = x + 1 end end
local function replace(m) spin() return m end
local s = string.gsub("moonwalk", "%w+", replace)
