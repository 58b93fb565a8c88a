-- Lua -> C -> Lua round trips and nested VM entries (LuajitWalkIT): every leaf is burn(), reached through
-- string.gsub with a Lua callback, an __index metamethod, a coroutine resumed from Lua, and pcall.
-- arg[1]: seconds of CPU time to run.
local function burn(n) local x = 0 for i = 1, n do x = x + i % 3 end return x end
function cb(s) burn(20000) return s end
function via_gsub() return (string.gsub("abc", "%w", cb)) end
local mt = { __index = function(t, k) burn(20000) return k end }
function via_meta() local t = setmetatable({}, mt) local v = t.foo return v end
function co_body() while true do burn(20000) coroutine.yield() end end
local co = coroutine.create(co_body)
function via_co() coroutine.resume(co) end
function protected() burn(20000) end
function via_pcall() pcall(protected) end
local t0 = os.clock()
local secs = tonumber(arg and arg[1]) or 3
while os.clock() - t0 < secs do via_gsub() via_meta() via_co() via_pcall() end
