--[[
  Releases the leader lock if this instance still holds it.

  KEYS[1]  the lock key
  ARGV[1]  this instance's token

  Returns 1 when the lock was released, 0 when another token (or none) held it.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
