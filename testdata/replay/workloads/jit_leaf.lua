-- Replay case luajit-jit-leaf: the leaf is trace code (the loop is compiled after a few dozen iterations, and the
-- core is taken a second later), two Lua functions deep. The traceback is written on the line of the loop.
local function spin() local x = 0 io.stderr:write(debug.traceback("moonwalk-truth"), "\n") while true do x = x + 1 end end
local function middle() spin() return 1 end
middle()
