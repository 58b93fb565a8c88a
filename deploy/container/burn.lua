-- CPU-bound Lua for the container tests: two named levels so stacks are checkable.
local M = {}

function M.inner(n)
    local s = 0
    for i = 1, n do
        s = s + i % 7
    end
    return s
end

function M.outer(n)
    return M.inner(n) + M.inner(math.floor(n / 2))
end

return M
