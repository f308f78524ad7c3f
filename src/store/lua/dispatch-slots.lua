--[[
  Claims, publishes and records due slots of many tasks in one atomic step.

  KEYS[1]        the leader lock key (ignored when ARGV[1] is empty)
  KEYS[2i]       the task key of item i (i = 1..n)
  KEYS[2i+1]     the broker list key of item i (ignored when its envelope is empty)
  ARGV[1]        the leader token: when not empty, nothing is done unless KEYS[1] holds exactly this value
  ARGV[2]        the broker database number, or "" when messages are not pushed by this script
  ARGV[3]        the store database number (the connection's own)
  ARGV[3i+1]     item i: the run-state tail the dispatcher expects (the claim: compare-and-swap)
  ARGV[3i+2]     item i: the new run-state tail (the slot becomes last_run_at, counts advance)
  ARGV[3i+3]     item i: the message envelope to LPUSH, or "" to record without publishing

  Returns one reply per item: "ok"; "missing" (no key); "corrupt" (no run-state tail);
  {"conflict", <stored tail>} (someone else advanced it: the slot is not published again);
  or the single reply "fenced" when the leader token does not match (nothing done).
]]
local rcall = redis.call
if ARGV[1] ~= '' and rcall('GET', KEYS[1]) ~= ARGV[1] then
  return 'fenced'
end

-- @include tail-start

local replies = {}
local pushes = {}
local n = (#KEYS - 1) / 2
for i = 1, n do
  local key = KEYS[2 * i]
  local expected, newTail, envelope = ARGV[3 * i + 1], ARGV[3 * i + 2], ARGV[3 * i + 3]
  local current = rcall('GET', key)
  if not current then
    replies[i] = 'missing'
  else
    local pos = tailStart(current)
    if not pos then
      replies[i] = 'corrupt'
    else
      local tail = string.sub(current, pos)
      if tail ~= expected then
        replies[i] = {'conflict', tail}
      else
        rcall('SET', key, string.sub(current, 1, pos - 1) .. newTail)
        if envelope ~= '' then pushes[#pushes + 1] = {KEYS[2 * i + 1], envelope} end
        replies[i] = 'ok'
      end
    end
  end
end

if #pushes > 0 then
  local switched = ARGV[2] ~= ARGV[3]
  if switched then rcall('SELECT', ARGV[2]) end
  for _, push in ipairs(pushes) do rcall('LPUSH', push[1], push[2]) end
  if switched then rcall('SELECT', ARGV[3]) end
end
return replies
