--[[
  Takes or renews the leader lock of the redis leader election.

  KEYS[1]  the lock key
  ARGV[1]  this instance's token
  ARGV[2]  the lock's time to live in milliseconds

  Returns 1 when this instance holds the lock (taken now or renewed), 0 when another token holds it.
]]
local rcall = redis.call
local holder = rcall('GET', KEYS[1])
if holder == ARGV[1] then
  rcall('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
rcall('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
