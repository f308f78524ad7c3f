-- The leader fence (docs/architecture.md, "One leader at a time"): a write carrying a token is done only while
-- the fence key holds exactly that token; "" is an unfenced write (--leader-elect none).
local function fenceHolds(fenceKey, token)
  return token == '' or redis.call('GET', fenceKey) == token
end
