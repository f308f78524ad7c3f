--[[
  Deletes a task key only when the operator owns it.

  KEYS[1]  the task key
  ARGV[1]  the owner uid that must match, or "" for any owner (pruning keys whose resource is gone)

  Returns "deleted", "absent", or "foreign" (no owner marker, or another uid: left untouched).
]]
local rcall = redis.call
local current = rcall('GET', KEYS[1])
if not current then return 'absent' end
local ok, decoded = pcall(cjson.decode, current)
if not ok or type(decoded) ~= 'table' or type(decoded.owner) ~= 'table' or type(decoded.owner.uid) ~= 'string' then
  return 'foreign'
end
if ARGV[1] ~= '' and decoded.owner.uid ~= ARGV[1] then return 'foreign' end
rcall('DEL', KEYS[1])
return 'deleted'
