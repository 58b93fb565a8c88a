-- LuaJIT's own account of its traces, for the replay suite's JIT cases (regenerate keeps these lines as jit.txt):
-- one stderr line per trace event, as jit.attach reports it.
--   moonwalk-jit start TRACE PARENT EXIT CHUNK:LINEDEFINED LINE   (PARENT 0: a root trace)
--   moonwalk-jit stop TRACE 0xMCODE SIZE                          (jit.util.tracemc: where its machine code is)
--   moonwalk-jit abort TRACE / moonwalk-jit flush
local ju = require("jit.util")
local function on_trace(what, tr, func, pc, otr, oex)
  local line
  if what == "start" then
    local fi = ju.funcinfo(func, pc)
    line = string.format("start %d %d %d %s:%d %d", tr, otr or 0, oex or -1, (fi.source:gsub("^@", "")),
      fi.linedefined, fi.currentline)
  elseif what == "stop" then
    local mcode, addr = ju.tracemc(tr)
    line = string.format("stop %d 0x%x %d", tr, addr, #mcode)
  elseif what == "abort" then
    line = string.format("abort %d", tr)
  else
    line = what
  end
  io.stderr:write("moonwalk-jit ", line, "\n")
end
jit.off(on_trace, true)
jit.attach(on_trace, "trace")
