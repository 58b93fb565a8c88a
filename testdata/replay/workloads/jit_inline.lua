-- Replay case luajit-jit-inline: a trace that starts in one function with another inlined (the flaky JIT acceptance
-- case). b's loop is the trace; LuaJIT inlines the call to c into it, so the trace's frame is b's while the core is
-- taken in c's code: the PC is in b's trace right after the FFI call (getppid) c makes (regenerate breaks there).
-- Expected: c (jit_inline.lua:9)_[i] over b (jit_inline.lua:10)_[j] over the main chunk, the trace a root trace
-- starting in b. c is one line, so the traceback c writes on its first call is its line at every moment.
dofile("jit_events.lua")
local ffi = require("ffi")
ffi.cdef("int getppid(void);")
local function c(i) if i == 1 then io.stderr:write(debug.traceback("moonwalk-truth"), "\n") end ffi.C.getppid() return i % 11 end
local function b(n) local acc = 0 for i = 1, n do acc = acc + c(i) end return acc end
b(1e300)
