--[[
  Writes a task's definition while keeping the run state already in Redis.

  KEYS[1]  the task key (<keyPrefix><namespace>/<name>)
  KEYS[2]  the fence key (ignored when ARGV[5] is empty)
  ARGV[1]  the definition head: the JSON value without its run-state tail and closing brace
  ARGV[2]  the run-state tail to use when the key has none (new key, or one that lost its tail)
  ARGV[3]  the owner uid; an existing key is only changed when its owner marker carries this uid
  ARGV[4]  this operator's id; an existing key is only changed when its owner marker carries this id or
           none (a key written before operators recorded one: the new head takes it over)
  ARGV[5]  the fence token: when not empty, nothing is done unless KEYS[2] holds exactly this value

  Returns {status, tail}: status is "created", "updated" or "unchanged" with the run-state tail now stored,
  or {"foreign", ""} when the key exists but is not owned by this resource of this operator (it is left
  untouched), or {"fenced", ""} when the fence token does not match (nothing done: another replica leads,
  and a key it deleted must not come back).
]]
local rcall = redis.call
-- @include tail-start
-- @include fence

if not fenceHolds(KEYS[2], ARGV[5]) then return {'fenced', ''} end

local current = rcall('GET', KEYS[1])
if not current then
  rcall('SET', KEYS[1], ARGV[1] .. ARGV[2])
  return {'created', ARGV[2]}
end

local ok, decoded = pcall(cjson.decode, current)
if not ok or type(decoded) ~= 'table' or type(decoded.owner) ~= 'table' or decoded.owner.uid ~= ARGV[3] then
  return {'foreign', ''}
end
if decoded.owner.operator ~= nil and decoded.owner.operator ~= ARGV[4] then return {'foreign', ''} end

local pos = tailStart(current)
local tail = ARGV[2]
if pos then tail = string.sub(current, pos) end
local head = pos and string.sub(current, 1, pos - 1) or nil
if head == ARGV[1] then return {'unchanged', tail} end
rcall('SET', KEYS[1], ARGV[1] .. tail)
return {'updated', tail}
