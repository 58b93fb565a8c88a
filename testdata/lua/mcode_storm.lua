-- An mcode storm for moonwalk's mmap/trace-rate figures: LuaJIT keeps compiling new traces into tiny mcode
-- limits, so it flushes every trace and allocates (mmap) fresh mcode areas over and over.
-- Usage: luajit mcode_storm.lua <mode> <seconds> [sizemcode KB (64)] [maxmcode KB (128)] [go file]
--   limit  generated functions (load(), each its own proto and loop, so each compiles a new trace) are run
--          hot by compile_more(); with maxmcode = 2 areas LuaJIT runs out of mcode, flushes every trace
--          (unmapping its areas) and maps new areas for the next traces
--   crowd  the same, after filling the address space within +-1 GiB of the executable's code with PROT_NONE
--          reservations that leave 64 KiB holes (one hole in 10 of LuaJIT's 64 KiB-aligned probes): LuaJIT's
--          mcode_alloc (lj_mcode.c) must place each area within jump range of its code; a probe that hits a
--          reservation is mapped elsewhere by the kernel, found too far, unmapped and retried at another
--          random address (up to 31 times, then the trace aborts with "failed to allocate mcode memory" and
--          LuaJIT flushes) -- the mmap/munmap pairs of Apache Traffic Server's storm. Needs a LuaJIT linked
--          into a PIE executable (the VM's code far from the kernel's default mmap placement), e.g.
--          /usr/bin/luajit on Debian; the script says so and exits 2 otherwise.
--   steady no storm, for counting: default mcode limits, <rate> (4th argument, default 100) new functions a
--          second for <seconds>, all kept alive (their traces stay: no flush, no trace freed); waits for a line
--          on stdin before it starts and again after END (so a reader can take its state before and after);
--          a 5th argument spins that many seconds of interpreted code first (no trace), then prints WARM
-- limit and crowd take a go file as 5th argument: after STARTED (the crowding done) they wait until it exists, so
-- observers attach before the storm's first call, and after END they block on stdin until it closes (the process
-- and its counters stay alive while the observers detach)
-- Prints (decimal, one line each, flushed):
--   STARTED <mode> pid <pid> thread 0x<lua_State> sizemcode <KB> maxmcode <KB> [reserved <MiB> holes <n> target 0x..]
--   TICK <wall s> traces <n> aborts <n> flushes <n> rounds <n> mono <s>   every 0.25 s, counts since start
--   END <wall s> traces <n> aborts <n> flushes <n> rounds <n> mono <s>
-- (mono: CLOCK_MONOTONIC in seconds, the clock of Java's System.nanoTime, to align the counts with a window)
-- traces/aborts/flushes are LuaJIT's own "stop"/"abort"/"flush" trace events (jit.attach), rounds the
-- generated functions run. Time-bounded by <seconds> of wall time.
local ffi = require("ffi")
ffi.cdef [[
  struct mw_timespec { long tv_sec; long tv_nsec; };
  int clock_gettime(int clk, struct mw_timespec *ts);
  void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off);
  int getpid(void);
]]

local mode = arg[1] or "limit"
local go = mode ~= "steady" and arg[5] or nil
local seconds = tonumber(arg[2]) or 5
local sizemcode = tonumber(arg[3]) or 64
local maxmcode = tonumber(arg[4]) or 2 * sizemcode

local ts = ffi.new("struct mw_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local traces, aborts, flushes = 0, 0, 0
local function on_trace(what)
  if what == "stop" then
    traces = traces + 1
  elseif what == "abort" then
    aborts = aborts + 1
  elseif what == "flush" then
    flushes = flushes + 1
  end
end
jit.off(on_trace, true)
jit.attach(on_trace, "trace")

-- Fills every gap of [lo, hi) with PROT_NONE reservations, leaving one 64 KiB hole (64 KiB aligned) every
-- `every` bytes. Returns reserved bytes and holes.
local function crowd(lo, hi, every)
  local gaps, prev = {}, lo
  for line in io.lines("/proc/self/maps") do
    local s, e = line:match("^(%x+)-(%x+)")
    s, e = tonumber(s, 16), tonumber(e, 16)
    if e > lo and s < hi then
      if s > prev then gaps[#gaps + 1] = { prev, s } end
      prev = math.max(prev, e)
    end
  end
  if prev < hi then gaps[#gaps + 1] = { prev, hi } end
  local PROT_NONE, MAP_PRIVATE_ANON_NORESERVE, MAP_FIXED_NOREPLACE = 0, 0x02 + 0x20 + 0x4000, 0x100000
  local reserved, holes = 0, 0
  local function reserve(a, b)
    if b > a then
      local p = ffi.C.mmap(ffi.cast("void *", a), b - a, PROT_NONE, MAP_PRIVATE_ANON_NORESERVE + MAP_FIXED_NOREPLACE,
        -1, 0)
      if ffi.cast("intptr_t", p) ~= -1 then reserved = reserved + (b - a) end
    end
  end
  for _, g in ipairs(gaps) do
    local a = g[1]
    while a < g[2] do
      local hole = math.floor((a + every) / every) * every -- next multiple of `every` (64 KiB aligned)
      if hole + 65536 > g[2] then
        reserve(a, g[2])
        break
      end
      reserve(a, hole)
      holes = holes + 1
      a = hole + 65536
    end
  end
  return reserved, holes
end

local extra = ""
if mode == "crowd" then
  local target
  local selfexe = assert(io.popen("readlink /proc/" .. ffi.C.getpid() .. "/exe")):read("*l")
  for line in io.lines("/proc/self/maps") do
    local s, perms, path = line:match("^(%x+)-%x+ (%S+) %S+ %S+ %S+%s+(.*)$")
    if perms and perms:sub(3, 3) == "x" and path == selfexe then
      target = tonumber(s, 16)
      break
    end
  end
  -- where the kernel puts an mmap without a (free) hint: below the shared libraries
  local libs = tonumber(ffi.cast("uintptr_t", ffi.C.mmap(nil, 4096, 0, 0x22, -1, 0)))
  if not target or math.abs(libs - target) < 4 * 2 ^ 30 then
    io.write("NOT_APPLICABLE the LuaJIT VM is not in an executable's text far from the mmap area (", selfexe, ")\n")
    os.exit(2)
  end
  target = target - target % 65536
  local GiB = 2 ^ 30
  local reserved, holes = crowd(math.max(target - GiB, 65536), target + GiB, 10 * 65536)
  extra = string.format(" reserved %d holes %d target 0x%x", reserved / 2 ^ 20, holes, target)
elseif mode ~= "limit" and mode ~= "steady" then
  io.write("usage: luajit mcode_storm.lua limit|crowd|steady <seconds> [sizemcode KB] [maxmcode KB | rate]\n")
  os.exit(2)
end

local rate
if mode == "steady" then
  rate, sizemcode, maxmcode = tonumber(arg[4]) or 100, "default", "default"
  jit.opt.start("hotloop=2")
else
  jit.opt.start("sizemcode=" .. sizemcode, "maxmcode=" .. maxmcode, "hotloop=2")
end

-- One new function per k: its own proto and loop, so its loop compiles a new root trace.
local function generated(k)
  return assert(load(string.format(
    "local s = 0 for i = 1, 200 do s = s + (i %% %d) * %d end return s", 3 + k % 97, k), "=storm"))
end

-- The Lua function whose calls make LuaJIT compile: the frame an mmap/munmap of the storm should carry.
local function compile_more(k0, n)
  local s = 0
  for k = k0, k0 + n - 1 do
    local f = generated(k)
    s = s + f() + f()
  end
  return s
end

local function counts()
  return string.format("traces %d aborts %d flushes %d", traces, aborts, flushes)
end
jit.off(counts, true)

-- a lua_State of this VM that stays alive (a reader finds the VM's global_State through it)
local anchor = coroutine.create(function() end)
io.write(string.format("STARTED %s pid %d thread %s sizemcode %s maxmcode %s%s\n", mode, ffi.C.getpid(),
  tostring(anchor):match("0x%x+"), sizemcode, maxmcode, extra))
io.flush()
local keep = {}
-- steady: `rate` new functions a second, kept alive
local function compile_kept(k0, n)
  for k = k0, k0 + n - 1 do
    local f = generated(k)
    f() f()
    keep[#keep + 1] = f
  end
end
if mode == "steady" then
  -- optional warm-up (5th argument, seconds): interpreted work only (no trace), so that a profiler finds the VM
  -- on a CPU and reads it before the first trace; then the line on stdin
  local warm = tonumber(arg[5]) or 0
  -- os.clock, not now(): a Lua function called this often would get hot and compile a trace of its own
  local function spin_interpreted(seconds)
    local w0, s = os.clock(), 0
    while os.clock() - w0 < seconds do
      for i = 1, 100000 do s = s + i % 7 end
    end
    return s
  end
  jit.off(spin_interpreted, true) -- and every function it calls: no trace
  spin_interpreted(warm)
  io.write("WARM\n")
  io.flush()
  io.read()
end
if go then
  dofile((arg[0]:match("^(.*/)") or "./") .. "go_gate.lua")(go)
end
local t0 = now()
local next_tick, k, rounds = t0 + 0.25, 1, 0
repeat
  if mode == "steady" then
    local due = math.floor((now() - t0) * rate) + 1 -- functions due by now
    if due > rounds then
      compile_kept(k, due - rounds)
      k, rounds = k + (due - rounds), due
    end
  else
    compile_more(k, 20)
    k, rounds = k + 20, rounds + 20
  end
  local t = now()
  if t >= next_tick then
    io.write(string.format("TICK %.3f %s rounds %d mono %.6f\n", t - t0, counts(), rounds, t))
    io.flush()
    next_tick = next_tick + 0.25
  end
until t - t0 >= seconds
local t_end = now()
io.write(string.format("END %.3f %s rounds %d mono %.6f\n", t_end - t0, counts(), rounds, t_end))
io.flush()
if mode == "steady" then io.read() end
if go then io.read("*a") end
