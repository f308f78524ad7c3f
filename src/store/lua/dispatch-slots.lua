--[[
  Claims, publishes and records due slots of many tasks in one atomic step. Per item the claim and its push
  succeed or fail together: every claim is checked first (nothing written), then the messages are pushed, and
  only the items whose push went through are claimed. A push Redis refuses (the list key holds a hash, a set,
  a string…) fails that item alone.

  An item is a scheduled slot (a compare-and-swap of the task's run-state tail) or a manual run (run-now,
  backfill: a field of the task's manual-run record, set once). A manual claim with a push is recorded as
  "sent"; without (the message is published elsewhere afterwards) as "publishing:<ms>", a publish under way.

  KEYS[1]        the fence key: the leader lock or the Lease epoch (ignored when ARGV[1] is empty)
  KEYS[2i]       the task key of item i (i = 1..n); for a manual run, the task's manual-run record
  KEYS[2i+1]     the broker list key of item i (ignored when its envelope is empty)
  ARGV[1]        the fence token: when not empty, nothing is done unless KEYS[1] holds exactly this value
  ARGV[2]        the broker database number, or "" when messages are not pushed by this script
  ARGV[3]        the store database number (the connection's own)
  ARGV[3i+1]     item i: the run-state tail the dispatcher expects (the claim: compare-and-swap); for a
                 manual run, "publishing:<ms>" (a tail always starts with a comma)
  ARGV[3i+2]     item i: the new run-state tail (the slot becomes last_run_at, counts advance); for a manual
                 run, the record's field that holds its claim
  ARGV[3i+3]     item i: the message envelope to LPUSH, or "" to record without publishing

  Returns one reply per item: "ok"; "missing" (no key); "corrupt" (no run-state tail, or not a string);
  {"conflict", <stored tail>} (someone else advanced it: the slot is not published again);
  {"claimed", <stored claim>} (a manual run claimed before: not published again);
  {"push-failed", <type of the list key>, <Redis error>} (the push was refused because the key holds another
  type: neither claimed nor pushed); or the single reply "fenced" when the fence token does not match
  (nothing done: another replica leads). A push or a claim Redis refuses for another reason (OOM, READONLY: a store-wide fault)
  takes back the pushes not yet matched by a claim and fails the call with that error.
]]
local rcall, rpcall = redis.call, redis.pcall
-- @include fence

if not fenceHolds(KEYS[1], ARGV[1]) then return 'fenced' end

-- @include tail-start

local replies = {}
-- The items whose claim holds, in order: {reply index, key, new value, list key, envelope, record field}.
local claims = {}
local pushing = false
local n = (#KEYS - 1) / 2
for i = 1, n do
  local key = KEYS[2 * i]
  local expected, newTail, envelope = ARGV[3 * i + 1], ARGV[3 * i + 2], ARGV[3 * i + 3]
  -- rpcall: a task key (or record) of another type is that task's problem, not its neighbours'.
  local manual = string.sub(expected, 1, 1) ~= ','
  local current = manual and rpcall('HEXISTS', key, newTail) or rpcall('GET', key)
  if manual then
    if type(current) == 'table' then
      replies[i] = 'corrupt'
    elseif current == 1 then
      replies[i] = {'claimed', rcall('HGET', key, newTail)}
    else
      claims[#claims + 1] = {i, key, envelope ~= '' and 'sent' or expected, KEYS[2 * i + 1], envelope, newTail}
      if envelope ~= '' then pushing = true end
    end
  elseif type(current) == 'table' then
    replies[i] = 'corrupt'
  elseif not current then
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
        claims[#claims + 1] = {i, key, string.sub(current, 1, pos - 1) .. newTail, KEYS[2 * i + 1], envelope}
        if envelope ~= '' then pushing = true end
      end
    end
  end
end

local switched = ARGV[2] ~= ARGV[3]
if pushing then
  if switched then rcall('SELECT', ARGV[2]) end
  for j, c in ipairs(claims) do
    if c[5] ~= '' then
      local pushed = rpcall('LPUSH', c[4], c[5])
      if type(pushed) == 'table' and pushed.err then
        if string.sub(pushed.err, 1, 9) ~= 'WRONGTYPE' then
          -- Refused for the whole store (OOM, READONLY…), not for this key: nothing of the call stays.
          for k = 1, j - 1 do
            local u = claims[k]
            if u[5] ~= '' and not replies[u[1]] then rcall('LREM', u[4], 1, u[5]) end
          end
          if switched then rcall('SELECT', ARGV[3]) end
          return redis.error_reply(pushed.err)
        end
        replies[c[1]] = {'push-failed', rcall('TYPE', c[4]).ok, pushed.err}
      end
    end
  end
  if switched then rcall('SELECT', ARGV[3]) end
end

for j, c in ipairs(claims) do
  if not replies[c[1]] then
    local set = c[6] and rpcall('HSET', c[2], c[6], c[3]) or rpcall('SET', c[2], c[3])
    if type(set) == 'table' and set.err then
      if pushing and switched then rcall('SELECT', ARGV[2]) end
      for k = j, #claims do
        local u = claims[k]
        if u[5] ~= '' and not replies[u[1]] then rcall('LREM', u[4], 1, u[5]) end
      end
      if pushing and switched then rcall('SELECT', ARGV[3]) end
      return redis.error_reply(set.err)
    end
    replies[c[1]] = 'ok'
  end
end
return replies
