-- Runs an Argo CD health script against one resource, the way Argo CD does: the resource is the global
-- `obj`, and only the base and table libraries are open. Usage: lua5.1 run.lua HEALTH_LUA < resource.json
-- Prints the returned status on the first line and the message on the second.
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local json = dofile(here .. "/json.lua")

local script = arg[1]
if script == nil then
  io.stderr:write("usage: lua5.1 run.lua HEALTH_LUA < resource.json\n")
  os.exit(2)
end

local chunk, loadError = loadfile(script)
if chunk == nil then
  io.stderr:write("cannot load " .. script .. ": " .. loadError .. "\n")
  os.exit(2)
end

local sandbox = {
  obj = json.decode(io.read("*a")),
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
  select = select, tonumber = tonumber, tostring = tostring, type = type, unpack = unpack,
  table = table,
}
setfenv(chunk, sandbox)

local ok, result = pcall(chunk)
if not ok then
  io.stderr:write("health script failed: " .. tostring(result) .. "\n")
  os.exit(1)
end
if type(result) ~= "table" then
  io.stderr:write("health script returned " .. type(result) .. ", not a table\n")
  os.exit(1)
end
io.write(tostring(result.status), "\n", tostring(result.message), "\n")
