-- Replay case luajit-jit-gc-step: the leaf is a C helper called from trace code, the JIT's GC step
-- (lj_gc_step_jit: only traces call it). spin's loop is a trace that allocates a table an iteration; regenerate breaks
-- in lj_gc_step_jit and takes the core there.
-- Expected: lj_gc_step_jit over spin (jit_gc_step.lua:6)_[j] over the main chunk.
dofile("jit_events.lua")
local function spin() local x, t = 0, {} io.stderr:write(debug.traceback("moonwalk-truth"), "\n") while true do x = x + 1 t[x % 64 + 1] = {x} end end
spin()
