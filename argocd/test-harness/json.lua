-- A small JSON decoder for the health-check tests: turns a resource serialised as JSON into the Lua
-- table Argo CD hands to a health script (objects and arrays become tables, null becomes nil).
local json = {}

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function fail(text, pos, message)
  error(string.format("JSON error at byte %d: %s (near %q)", pos, message, text:sub(pos, pos + 20)), 0)
end

local function skipSpace(text, pos)
  return text:find("[^ \t\r\n]", pos) or #text + 1
end

local function utf8(code)
  if code < 0x80 then
    return string.char(code)
  elseif code < 0x800 then
    return string.char(0xC0 + math.floor(code / 0x40), 0x80 + code % 0x40)
  elseif code < 0x10000 then
    return string.char(0xE0 + math.floor(code / 0x1000), 0x80 + math.floor(code / 0x40) % 0x40, 0x80 + code % 0x40)
  end
  return string.char(
    0xF0 + math.floor(code / 0x40000),
    0x80 + math.floor(code / 0x1000) % 0x40,
    0x80 + math.floor(code / 0x40) % 0x40,
    0x80 + code % 0x40
  )
end

local decodeValue

local function decodeString(text, pos)
  local parts = {}
  local i = pos + 1
  while true do
    local c = text:sub(i, i)
    if c == "" then
      fail(text, pos, "unterminated string")
    elseif c == '"' then
      return table.concat(parts), i + 1
    elseif c == "\\" then
      local e = text:sub(i + 1, i + 1)
      if e == "u" then
        local code = tonumber(text:sub(i + 2, i + 5), 16)
        if code == nil then
          fail(text, i, "bad \\u escape")
        end
        i = i + 6
        -- A surrogate pair encodes one code point above U+FFFF.
        if code >= 0xD800 and code <= 0xDBFF and text:sub(i, i + 1) == "\\u" then
          local low = tonumber(text:sub(i + 2, i + 5), 16)
          if low ~= nil and low >= 0xDC00 and low <= 0xDFFF then
            code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
            i = i + 6
          end
        end
        parts[#parts + 1] = utf8(code)
      elseif escapes[e] ~= nil then
        parts[#parts + 1] = escapes[e]
        i = i + 2
      else
        fail(text, i, "bad escape")
      end
    else
      local stop = text:find('["\\]', i) or #text + 1
      parts[#parts + 1] = text:sub(i, stop - 1)
      i = stop
    end
  end
end

local function decodeArray(text, pos)
  local result = {}
  local i = skipSpace(text, pos + 1)
  if text:sub(i, i) == "]" then
    return result, i + 1
  end
  while true do
    local value
    value, i = decodeValue(text, i)
    result[#result + 1] = value
    i = skipSpace(text, i)
    local c = text:sub(i, i)
    if c == "]" then
      return result, i + 1
    elseif c ~= "," then
      fail(text, i, "expected ',' or ']'")
    end
    i = skipSpace(text, i + 1)
  end
end

local function decodeObject(text, pos)
  local result = {}
  local i = skipSpace(text, pos + 1)
  if text:sub(i, i) == "}" then
    return result, i + 1
  end
  while true do
    if text:sub(i, i) ~= '"' then
      fail(text, i, "expected a key")
    end
    local key
    key, i = decodeString(text, i)
    i = skipSpace(text, i)
    if text:sub(i, i) ~= ":" then
      fail(text, i, "expected ':'")
    end
    local value
    value, i = decodeValue(text, skipSpace(text, i + 1))
    result[key] = value
    i = skipSpace(text, i)
    local c = text:sub(i, i)
    if c == "}" then
      return result, i + 1
    elseif c ~= "," then
      fail(text, i, "expected ',' or '}'")
    end
    i = skipSpace(text, i + 1)
  end
end

decodeValue = function(text, pos)
  local i = skipSpace(text, pos)
  local c = text:sub(i, i)
  if c == "{" then
    return decodeObject(text, i)
  elseif c == "[" then
    return decodeArray(text, i)
  elseif c == '"' then
    return decodeString(text, i)
  elseif text:sub(i, i + 3) == "true" then
    return true, i + 4
  elseif text:sub(i, i + 4) == "false" then
    return false, i + 5
  elseif text:sub(i, i + 3) == "null" then
    return nil, i + 4
  end
  local number = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if number == nil or number == "" then
    fail(text, i, "unexpected character")
  end
  return tonumber(number), i + #number
end

function json.decode(text)
  local value, pos = decodeValue(text, 1)
  if skipSpace(text, pos) <= #text then
    fail(text, pos, "trailing characters")
  end
  return value
end

return json
