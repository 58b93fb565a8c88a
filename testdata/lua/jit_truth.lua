-- Ground truth about LuaJIT's JIT state, told by LuaJIT itself, for moonwalk's JIT-state tests.
-- Loaded with dofile by the workload scripts next to it. It records every trace start through
-- jit.attach (parent trace and start function are not otherwise visible from Lua) and prints, on request:
--   THREAD <addr>                   a lua_State of this VM (a coroutine kept alive; the test reads its glref)
--   TRACE <no> <root> <parent> <startproto> <mcode> <szmcode> <link> <linktype>
--   FLUSHES <n>                     "flush" trace events seen so far
-- Numbers are decimal, addresses hex. The printing functions are excluded from compilation so that a dump
-- never changes the trace set it describes.
local ju = require("jit.util")

local M = {}
local started = {}
local flushes = 0
local anchor = coroutine.create(function() end)

local function protoaddr(func)
  local fi = ju.funcinfo(func)
  return fi.proto and (tostring(fi.proto):match("0x%x+")) or "?"
end

local function on_trace(what, tr, func, pc, otr, oex)
  if what == "start" then
    -- A side trace starts at exit oex >= 0 of trace otr; a stitched trace (a root trace continuing trace otr
    -- after a call it could not compile) reports oex = -1.
    local root = 0
    if otr and otr ~= 0 and oex and oex >= 0 then
      local p = started[otr]
      root = (p and p.root ~= 0) and p.root or otr
    end
    started[tr] = { proto = protoaddr(func), parent = otr or 0, root = root }
  elseif what == "flush" then
    flushes = flushes + 1
    started = {}
  end
end
jit.off(on_trace, true)
jit.attach(on_trace, "trace")

-- Under testdata/luajit/multivm.c several VMs share stdout: each line then starts with "VM<i> " (one write
-- per line, so lines of different VMs do not mix).
local prefix = MOONWALK_VM and ("VM" .. tostring(MOONWALK_VM) .. " ") or ""

function M.emit(...)
  local t = { ... }
  for i = 1, #t do t[i] = tostring(t[i]) end
  io.write(prefix .. table.concat(t, " ") .. "\n")
end

-- Address of a lua_State of this VM that stays alive as long as the VM.
function M.thread()
  return (tostring(anchor):match("0x%x+"))
end

function M.dump()
  -- A trace can be dead before the GC frees it: recording a recursive function flushes a root trace that only
  -- returns (lj_record.c, "Flush trace that only returns") with no "flush" event, and the side traces of a
  -- flushed root go with it. Until a GC step sweeps it, jit.util still lists it; the dump's own allocations
  -- may then free it a moment later. A full collection first makes the dump name only traces that stay.
  collectgarbage("collect")
  M.emit("THREAD", M.thread())
  local n = 0
  for tr = 1, 65535 do
    local info = ju.traceinfo(tr)
    if info then
      local mc, addr = ju.tracemc(tr)
      local s = started[tr]
      M.emit("TRACE", tr, s and s.root or "?", s and s.parent or "?", s and s.proto or "?",
        string.format("0x%x", addr), #mc, info.link, info.linktype)
      n = n + 1
    end
  end
  M.emit("FLUSHES", flushes)
  return n
end

function M.flushes()
  return flushes
end

-- Serves commands on stdin until EOF or "quit": "dump" and any name in handlers; every answer ends with DONE.
function M.serve(handlers)
  for line in io.lines() do
    local cmd, argstr = line:match("^(%S+)%s*(.*)$")
    if cmd == "quit" then break end
    if cmd == "dump" then
      M.dump()
    elseif cmd and handlers[cmd] then
      handlers[cmd](argstr)
      M.dump()
    else
      M.emit("ERROR unknown command", line)
    end
    M.emit("DONE")
    io.flush()
  end
end

jit.off(M.dump, true)
jit.off(M.serve, true)
jit.off(M.emit, true)
return M
