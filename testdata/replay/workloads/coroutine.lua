-- Replay case luajit-coroutine: the interpreter's leaf (JIT off) in a coroutine resumed from the main chunk. A
-- traceback shows one lua_State: the resumer's is written on the line of the resume, the coroutine's on the loop's.
jit.off()
local function spin() local x = 0 io.stderr:write(debug.traceback("moonwalk-truth"), "\n") while true do x = x + 1 end end
local function body() spin() return 1 end
local co = coroutine.create(body)
io.stderr:write(debug.traceback("moonwalk-truth-resumer"), "\n") coroutine.resume(co)
