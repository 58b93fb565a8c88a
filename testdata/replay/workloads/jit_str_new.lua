-- Replay case luajit-jit-str-new: the leaf is string interning called from trace code: string.sub compiles to
-- IR_SNEW, a direct call of lj_str_new from the trace. regenerate breaks in lj_str_new and takes the core there.
-- Expected: lj_str_new over spin (jit_str_new.lua:6)_[j] over the main chunk.
dofile("jit_events.lua")
local s = string.rep("moonwalk", 8)
local function spin() local x, t = 0, {} io.stderr:write(debug.traceback("moonwalk-truth"), "\n") while true do x = x + 1 t[x % 64 + 1] = string.sub(s, 1, x % 60 + 1) end end
spin()
