-- Argo CD health check for celerybeat.io/PeriodicTask.
-- Runs without the string library (Argo CD opens only base, table and a safe os by default).
local hs = {}

local function readyCondition(status)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, condition in ipairs(status.conditions) do
    if condition.type == "Ready" then
      return condition
    end
  end
  return nil
end

local function describe(condition)
  local text = condition.reason or ""
  if condition.message ~= nil and condition.message ~= "" then
    if text ~= "" then
      text = text .. ": "
    end
    text = text .. condition.message
  end
  return text
end

local generation = obj.metadata.generation
local status = obj.status
local ready = readyCondition(status)

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report a Ready condition"
  return hs
end

-- A condition about an older spec says nothing about the current one.
local observed = status.observedGeneration or ready.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

if obj.spec ~= nil and obj.spec.enabled == false then
  hs.status = "Suspended"
  hs.message = "Disabled (spec.enabled is false)"
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  if status.nextRunAt ~= nil then
    hs.message = "Scheduled; next run at " .. status.nextRunAt
  else
    hs.message = describe(ready)
  end
  return hs
end

if ready.status == "False" and (ready.reason == "Disabled" or ready.reason == "Paused") then
  hs.status = "Suspended"
  hs.message = describe(ready)
  return hs
end

-- A one-off or clocked task that has run did what it was asked: healthy, like a completed Job.
if ready.status == "False" and ready.reason == "Completed" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

if ready.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready)
return hs
