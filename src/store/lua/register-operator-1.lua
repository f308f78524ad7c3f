--[[
  Registers a running operator on this Redis (docs/sharing-redis.md), unless a live neighbour's scope
  overlaps its own: one key prefix begins the other and they share a namespace (or either watches all).
  Check and registration are one step, so two operators starting at once cannot both pass.

  KEYS[1]  the registry hash: field = operator id, value = JSON {prefix, namespace ("" = all), heartbeat}
  ARGV[1]  the operator's id
  ARGV[2]  its key prefix
  ARGV[3]  the namespace it watches, or "" for all
  ARGV[4]  how long an entry lives without a refresh, in milliseconds
  ARGV[5]  "start": register only when no live neighbour overlaps; "refresh": register anyway (already running)

  Returns the overlapping live neighbours as a flat list {id, entry JSON, ...}, empty when there is none.
  Entries older than ARGV[4] are removed. The heartbeat is the Redis server's time, the same for everyone.
]]
local rcall = redis.call
local time = rcall('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[4])

local function begins(text, start) return string.sub(text, 1, #start) == start end

local overlapping = {}
local entries = rcall('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local id, raw = entries[i], entries[i + 1]
  local ok, entry = pcall(cjson.decode, raw)
  if not ok or type(entry) ~= 'table' or type(entry.heartbeat) ~= 'number' or now - entry.heartbeat > ttl then
    rcall('HDEL', KEYS[1], id)
  elseif id ~= ARGV[1] and type(entry.prefix) == 'string' and type(entry.namespace) == 'string' then
    local prefixes = begins(entry.prefix, ARGV[2]) or begins(ARGV[2], entry.prefix)
    local namespaces = entry.namespace == '' or ARGV[3] == '' or entry.namespace == ARGV[3]
    if prefixes and namespaces then
      overlapping[#overlapping + 1] = id
      overlapping[#overlapping + 1] = raw
    end
  end
end

if #overlapping == 0 or ARGV[5] == 'refresh' then
  rcall('HSET', KEYS[1], ARGV[1], cjson.encode({ prefix = ARGV[2], namespace = ARGV[3], heartbeat = now }))
end
return overlapping
