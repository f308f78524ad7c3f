--[[
  Deletes a task key only when this operator owns it (the rule of operator-scope.ts: the key is exactly
  prefix .. owner.namespace .. "/" .. owner.name, the namespace is watched, and owner.operator is this
  operator's id or absent, as in keys written before operators recorded one).

  KEYS[1]  the task key
  KEYS[2]  the fence key (ignored when ARGV[5] is empty)
  ARGV[1]  the owner uid that must match, or "" for any owner (pruning keys whose resource is gone)
  ARGV[2]  this operator's id
  ARGV[3]  its key prefix
  ARGV[4]  the namespace it watches, or "" for all
  ARGV[5]  the fence token: when not empty, nothing is done unless KEYS[2] holds exactly this value

  Returns "deleted", "absent", or "foreign" (no owner marker, another uid, another operator, or outside
  the operator's scope: left untouched), or "fenced" when the fence token does not match (nothing done).
]]
local rcall = redis.call
-- @include fence

if not fenceHolds(KEYS[2], ARGV[5]) then return 'fenced' end
local current = rcall('GET', KEYS[1])
if not current then return 'absent' end
local ok, decoded = pcall(cjson.decode, current)
if not ok or type(decoded) ~= 'table' or type(decoded.owner) ~= 'table' then return 'foreign' end
local owner = decoded.owner
if type(owner.uid) ~= 'string' or type(owner.namespace) ~= 'string' or type(owner.name) ~= 'string' then
  return 'foreign'
end
if ARGV[1] ~= '' and owner.uid ~= ARGV[1] then return 'foreign' end
if owner.operator ~= nil and owner.operator ~= ARGV[2] then return 'foreign' end
if KEYS[1] ~= ARGV[3] .. owner.namespace .. '/' .. owner.name then return 'foreign' end
if ARGV[4] ~= '' and owner.namespace ~= ARGV[4] then return 'foreign' end
rcall('DEL', KEYS[1])
return 'deleted'
