-- A hot loop with a biased branch: the root trace covers the common path, and the rare branch (every 16th
-- iteration) exits the root trace often enough (hotexit) to get its own side trace.
-- Expected stack in the side trace, outermost first: main chunk -> run -> work (leaf, compiled; `rare` is
-- inlined into the trace and shows as work).
-- Usage: luajit side_trace.lua [seconds] [serve]
--   runs the loop for `seconds` (default 0.2), prints the jit_truth dump, then with "serve" answers commands
--   on stdin (dump, run <seconds>, flush, flushrun <seconds>, opt <jit.opt.start args>, off, on, quit).
local dir = arg and arg[0] and arg[0]:match("^(.*/)") or "./"
local truth = dofile(dir .. "jit_truth.lua")

local function rare(i)
  return (i * 3) % 7
end

local function work(n)
  local acc = 0
  for i = 1, n do
    if i % 16 == 0 then
      acc = acc + rare(i)
    else
      acc = acc + 1
    end
  end
  return acc
end

local function run(seconds)
  local t0 = os.clock()
  local s = 0
  repeat
    s = s + work(100000)
  until os.clock() - t0 >= seconds
  return s
end

run(tonumber(arg[1]) or 0.2)
truth.dump()
truth.emit("READY")
io.flush()
if arg[2] == "serve" then
  truth.serve({
    run = function(a) run(tonumber(a) or 0.2) end,
    flush = function() jit.flush() end,
    flushrun = function(a) jit.flush(); run(tonumber(a) or 0.2) end,
    opt = function(a)
      local opts = {}
      for o in a:gmatch("%S+") do opts[#opts + 1] = o end
      jit.opt.start(unpack(opts))
    end,
    off = function() jit.off() end,
    on = function() jit.on() end,
  })
end
