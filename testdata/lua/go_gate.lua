-- The gate of the workloads whose observers attach before their first measured call (GatedLuajit in the integration
-- tests): returns a function that waits, polling every 20 ms, until the file at `path` exists. Not compiled, so the
-- wait makes no trace and maps no machine code before the go.
--   local await_go = dofile((arg[0]:match("^(.*/)") or "./") .. "go_gate.lua")
local ffi = require("ffi")
pcall(ffi.cdef, "int usleep(unsigned int usec);") -- already declared by the caller: fine
local function await_go(path)
  while true do
    local f = io.open(path)
    if f then
      f:close()
      return
    end
    ffi.C.usleep(20000)
  end
end
jit.off(await_go, true)
return await_go
