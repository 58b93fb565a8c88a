-- Lua-heavy deep stack for the per-sample kernel cost benchmark (scripts/bench --lua): DEPTH levels, each its
-- own Lua function (compiled from source, so no two levels share a prototype and nothing a walker caches per
-- function helps), every 10th level entered through string.gsub's Lua callback (a C function calling back
-- into the VM: a new interpreter frame and a few native frames), the leaf a JIT-compiled loop. About 45
-- frames per sample with the default DEPTH.  Usage: luajit deep.lua SECONDS [DEPTH]
local secs = tonumber(arg and arg[1]) or 10
local depth = tonumber(arg and arg[2]) or 30
if secs <= 0 or secs > 600 then secs = 10 end
if depth < 0 or depth > 150 then depth = 30 end
local stop = os.clock() + secs
local sink = 0

local function spin()
	local x = 0
	for i = 1, 200000 do x = x + i % 7 end
	return x
end

local levels = {}
levels[0] = function()
	while os.clock() < stop do sink = sink + spin() end
	return 0
end
for d = 1, depth do
	local via_c = d % 10 == 0
	local src = via_c
		and ("local L = ... return function() local s, r = string.gsub('a', 'a', function() L[%d]() return '' end) return r end"):format(d - 1)
		or ("local L = ... return function() local r = L[%d]() return r + %d end"):format(d - 1, d)
	levels[d] = assert(load(src, "=level" .. d))(levels)
end
levels[depth]()
