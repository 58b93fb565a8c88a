-- GC heap ground truth for moonwalk's per-VM GC figures: the workload holds a known amount of live data and
-- prints what LuaJIT says its heap is (collectgarbage("count"), in KB) right before it blocks on stdin, so the
-- heap read from outside while it waits is the heap it printed.
-- Protocol (stdin, one command a line; each answer ends with DONE):
--   grow <n>   keep n more tables of 64 numbers alive (about 1 KB each)
--   free       drop everything kept and run a full collection
--   quit
-- Each answer is "COUNT <kb>" with the figure taken as the last thing before the answer is written.
local anchor = coroutine.create(function() end)
local kept = {}

local function answer()
  -- reading the next line grows the VM's temporary buffer (g->tmpbuf, counted in the heap) to a few KB after the
  -- figure is taken; grow it first so the figure stays true while the workload waits
  local _ = #string.rep(" ", 16384)
  local kb = collectgarbage("count")
  io.write("COUNT ", string.format("%.3f", kb), "\nDONE\n")
  io.flush()
end

io.write("THREAD ", (tostring(anchor):match("0x%x+")), "\n")
answer()
for line in io.lines() do
  local cmd, a = line:match("^(%S+)%s*(.*)$")
  if cmd == "quit" then break end
  if cmd == "grow" then
    for _ = 1, tonumber(a) do
      local t = {}
      for i = 1, 64 do t[i] = i end
      kept[#kept + 1] = t
    end
  elseif cmd == "free" then
    kept = {}
    collectgarbage()
  end
  answer()
end
