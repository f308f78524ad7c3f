--[[
  Settles a manual run's claim recorded as a publish under way: "sent" (confirmed), "released" (not
  published: the field goes, so the run is tried again) or "unknown" (kept as such, never sent again, and
  counted in the task's run-state tail as unknown_run_count, in the same step).

  KEYS[1]  the task's manual-run record (a hash)
  KEYS[2]  the task key
  ARGV[1]  the field of the claim
  ARGV[2]  the claim's value as written ("publishing:<ms>")
  ARGV[3]  sent | released | unknown

  Returns {"settled", <run-state tail after it, or "">} or {"changed"} when the claim is no longer that one.
]]
local rcall = redis.call
-- @include tail-start

if rcall('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return {'changed'} end
if ARGV[3] == 'released' then
  rcall('HDEL', KEYS[1], ARGV[1])
  return {'settled', ''}
end
rcall('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[3] ~= 'unknown' then return {'settled', ''} end

-- The tail is the operator's own encoding: the count follows missed_run_count, present only when not 0.
local value = rcall('GET', KEYS[2])
local pos = type(value) == 'string' and tailStart(value)
if not pos then return {'settled', ''} end
local tail = string.sub(value, pos)
local s, e, count = string.find(tail, ',"unknown_run_count":(%d+)')
if s then
  tail = string.sub(tail, 1, s - 1) .. ',"unknown_run_count":' .. (tonumber(count) + 1) .. string.sub(tail, e + 1)
else
  local _, me = string.find(tail, ',"missed_run_count":%d+')
  if not me then return {'settled', ''} end
  tail = string.sub(tail, 1, me) .. ',"unknown_run_count":1' .. string.sub(tail, me + 1)
end
rcall('SET', KEYS[2], string.sub(value, 1, pos - 1) .. tail)
return {'settled', tail}
