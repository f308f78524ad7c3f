--[[
  Puts a hand-written schedule key into the form the dispatcher works on (its run state as the tail),
  unless the user changed it since the operator read it: a user's edit is never overwritten.

  KEYS[1]  the schedule key (<keyPrefix><name>), written by the user, without an owner marker
  ARGV[1]  the value as the operator read it
  ARGV[2]  the same value with its run-state members moved into the run-state tail

  Returns "adopted"; "changed" (the value is not ARGV[1] any more: read it again); or "missing".
  The key's time to live, if the user set one, is kept.
]]
local current = redis.call('GET', KEYS[1])
if not current then return 'missing' end
if current ~= ARGV[1] then return 'changed' end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 'adopted'
