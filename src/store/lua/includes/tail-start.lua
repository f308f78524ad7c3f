-- The position of the run-state tail in a task value: the last occurrence of the marker. A marker inside
-- user JSON cannot be confused with it, because the operator always writes the run state last.
local function tailStart(value)
  local marker = ',"last_run_at":'
  local found, from = nil, 1
  while true do
    local s = string.find(value, marker, from, true)
    if not s then return found end
    found, from = s, s + 1
  end
end
