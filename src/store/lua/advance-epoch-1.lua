--[[
  Takes or keeps the Lease epoch that fences a leader's writes (--leader-elect lease). The epoch is the
  Lease's leaseTransitions, which the API server's optimistic concurrency makes grow with every change of
  holder, with the Lease's uid: a Lease deleted and created again starts counting from 0.

  KEYS[1]  the epoch key of the operator
  ARGV[1]  the epoch: the Lease's leaseTransitions as written by this replica when it took the Lease
  ARGV[2]  the Lease's uid
  ARGV[3]  "take" (the replica has just taken the Lease) or "keep" (it checks that it still leads)

  The key holds "<epoch> <uid>". It is set to this replica's value when it holds nothing, a lower epoch of the
  same Lease (a write lost in a Redis failover, taken again), or, on "take" only, the value of another Lease
  (the one this replica now holds replaced it). Returns {"held", <value>} when the key holds this replica's
  value, or {"stale", <stored value>} when a later leader's epoch is there: this replica no longer leads.
]]
local rcall = redis.call
local mine = ARGV[1] .. ' ' .. ARGV[2]
local stored = rcall('GET', KEYS[1])
if stored == mine then return {'held', mine} end
if stored then
  local epoch, uid = string.match(stored, '^(%d+) (.+)$')
  if uid == ARGV[2] then
    if tonumber(epoch) > tonumber(ARGV[1]) then return {'stale', stored} end
  elseif ARGV[3] ~= 'take' then
    return {'stale', stored}
  end
end
rcall('SET', KEYS[1], mine)
return {'held', mine}
