--[[
  Marks a task's key as held: its resource is not dispatched (an invalid spec, a policy that refuses it, a
  task missing from a partial desired set), so a new leader must not dispatch the definition the key still
  holds before its source has read the resource. The mark is the first member, "held": true; the next
  definition write (upsert-task-2.lua) replaces the whole head and so removes it. The run state is kept.

  KEYS[1]  the task key
  KEYS[2]  the fence key (ignored when ARGV[3] is empty)
  ARGV[1]  the owner uid that must match
  ARGV[2]  this operator's id; the key's owner marker must carry it or none
  ARGV[3]  the fence token: when not empty, nothing is done unless KEYS[2] holds exactly this value

  Returns "held" (marked now or before), "absent", "foreign" (another owner or operator: untouched), or
  "fenced" (nothing done).
]]
local rcall = redis.call
-- @include fence

if not fenceHolds(KEYS[2], ARGV[3]) then return 'fenced' end
local current = rcall('GET', KEYS[1])
if not current then return 'absent' end
local ok, decoded = pcall(cjson.decode, current)
if not ok or type(decoded) ~= 'table' or type(decoded.owner) ~= 'table' or decoded.owner.uid ~= ARGV[1] then
  return 'foreign'
end
if decoded.owner.operator ~= nil and decoded.owner.operator ~= ARGV[2] then return 'foreign' end
local mark = '{"held":true,'
if string.sub(current, 1, #mark) == mark then return 'held' end
rcall('SET', KEYS[1], mark .. string.sub(current, 2))
return 'held'
