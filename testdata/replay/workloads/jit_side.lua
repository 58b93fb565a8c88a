-- Replay case luajit-jit-side: the leaf is a side trace. spin's loop is a root trace recorded while x <= 1000; from
-- then on its guard exits on every iteration into a side trace, the only code that calls getppid (through the FFI).
-- regenerate breaks in getppid and takes the core where the side trace continues after the call.
-- Expected: spin (jit_side.lua:7)_[j] over the main chunk, the trace a side trace (jit.txt: its parent, its mcode).
dofile("jit_events.lua")
local ffi = require("ffi")
local function spin() local x = 0 io.stderr:write(debug.traceback("moonwalk-truth"), "\n") while true do x = x + 1 if x > 1000 then ffi.C.getppid() end end end
ffi.cdef("int getppid(void);")
spin()
