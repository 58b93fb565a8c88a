-- Replay case luajit-ffi-callback: the interpreter's leaf (JIT off) in a Lua function called back through an FFI
-- callback by libc's qsort, itself called through the FFI from the main chunk.
jit.off()
local ffi = require("ffi")
ffi.cdef[[void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *));]]
local function spin() local x = 0 io.stderr:write(debug.traceback("moonwalk-truth"), "\n") while true do x = x + 1 end end
local function compare(a, b) spin() return 0 end
local cb = ffi.cast("int (*)(const void *, const void *)", compare)
local arr = ffi.new("int[4]", {4, 3, 2, 1})
ffi.C.qsort(arr, 4, 4, cb)
