-- multivm fixture workload: string building and pattern matching in hot loops.
-- Usage (under testdata/luajit/multivm.c or plain luajit): vm_strings.lua [seconds]
local dir = arg and arg[0] and arg[0]:match("^(.*/)") or "./"
local truth = dofile(dir .. "jit_truth.lua")

local function build(n)
  local parts = {}
  for i = 1, n do parts[#parts + 1] = string.char(97 + i % 26) end
  return table.concat(parts)
end

local function count_vowels(s)
  local c = 0
  for i = 1, #s do
    local b = s:byte(i)
    if b == 97 or b == 101 or b == 105 or b == 111 or b == 117 then c = c + 1 end
  end
  return c
end

local t0 = os.clock()
local seconds = tonumber(arg and arg[1]) or 0.2
repeat count_vowels(build(500)) until os.clock() - t0 >= seconds
truth.dump()
