-- Replay case luajit-pcall: the interpreter's leaf (JIT off) inside a function run by pcall, under a method call.
jit.off()
local function spin() local x = 0 io.stderr:write(debug.traceback("moonwalk-truth"), "\n") while true do x = x + 1 end end
local function protected(n) spin() return n end
local obj = {}
function obj:run() local ok = pcall(protected, 1) return ok end
obj:run()
