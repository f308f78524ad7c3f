--[[
  Settles a claimed slot once its publish is known: the run (confirmed), the state from before the claim
  (not published: the slot is tried again), or the claim marked as of unknown outcome.

  KEYS[1]  the task key
  ARGV[1]  the run-state tail written by the claim
  ARGV[2]  the run-state tail that replaces it

  Returns "settled", or "changed" when the stored tail is no longer the claim's (left as it is).
]]
local rcall = redis.call
-- @include tail-start

local current = rcall('GET', KEYS[1])
if not current then return 'changed' end
local found = tailStart(current)
if not found or string.sub(current, found) ~= ARGV[1] then return 'changed' end
rcall('SET', KEYS[1], string.sub(current, 1, found - 1) .. ARGV[2])
return 'settled'
