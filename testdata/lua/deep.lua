-- Lua-heavy deep stack for the per-sample kernel cost benchmark (scripts/bench --lua): DEPTH Lua frames of
-- descend(), every 10th level re-entered through string.gsub's Lua callback (a C function calling back into
-- the VM: a new interpreter frame and a few native frames), the leaf a JIT-compiled loop. About 45 frames
-- per sample with the default DEPTH.  Usage: luajit deep.lua SECONDS [DEPTH]
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

local descend

local function via_c(d)
	return (string.gsub("a", "a", function() descend(d) return "" end))
end

function descend(d)
	if d == 0 then
		while os.clock() < stop do sink = sink + spin() end
		return 0
	end
	if d % 10 == 0 then via_c(d - 1) else descend(d - 1) end
	return d -- not a tail call: every level keeps its frame
end

descend(depth)
