-- wrk script for npm run bench:compare (--client wrk): the same workloads as the Node client
-- (bench/compare/workloads.ts), from Debian's wrk, which costs the machine far less CPU per
-- request than a Node HTTP client, so that the systems under test get the cores.
--
--   wrk -t 2 -c 64 -d 5s -s workload.lua http://host:port -- KIND TAG [NAMES]
--
-- KIND: cubefs-write | cubefs-read | cubefs-read-serializable | cubefs-mixed | cubefs-get:/path
--       etcd-write | etcd-read | etcd-read-serializable | etcd-mixed
-- TAG keeps the keys of different runs apart; NAMES (default 1000) is how many seeded keys
-- (rk_0 .. rk_NAMES-1) the reads pick from. A reply counts as failed when its status is not 200
-- or, for CubeFS, its envelope code is not 0; the last line is machine-readable:
--   WRK requests=N seconds=S p50us=.. p99us=.. p999us=.. failures=F

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  return ((s:gsub(".", function(x)
    local r, byte = "", x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local threads = {}
local threadsMade = 0

-- Runs in the main Lua state; thread:set makes `threadId` a global of that thread's own state.
function setup(thread)
  threadsMade = threadsMade + 1
  thread:set("threadId", threadsMade)
  table.insert(threads, thread)
end

local kind, tag, names
local counter = 0
failures = 0
local etcdValue = base64(string.rep("v", 64))

function init(args)
  kind = args[1] or "cubefs-write"
  tag = (args[2] or "w") .. "t" .. tostring(threadId)
  names = tonumber(args[3] or "1000")
  math.randomseed(threadId * 7919)
end

local function cubefsWrite()
  counter = counter + 1
  return wrk.format("POST", "/user/create", { ["Content-Type"] = "application/json" }, '{"id":"u' .. tag .. "_" .. counter .. '","type":2}')
end

local function cubefsRead(serializable)
  local headers = {}
  if serializable then headers["x-cubemaster-consistency"] = "serializable" end
  return wrk.format("GET", "/user/info?user=rk_" .. math.random(0, names - 1), headers)
end

local function etcdWrite()
  counter = counter + 1
  return wrk.format("POST", "/v3/kv/put", nil, '{"key":"' .. base64(tag .. "/" .. counter) .. '","value":"' .. etcdValue .. '"}')
end

local function etcdRead(serializable)
  local key = base64("rk_" .. math.random(0, names - 1))
  local body = serializable and ('{"key":"' .. key .. '","serializable":true}') or ('{"key":"' .. key .. '"}')
  return wrk.format("POST", "/v3/kv/range", nil, body)
end

function request()
  if kind == "cubefs-write" then return cubefsWrite() end
  if kind == "cubefs-read" then return cubefsRead(false) end
  if kind == "cubefs-read-serializable" then return cubefsRead(true) end
  if kind == "cubefs-mixed" then
    counter = counter + 1
    if counter % 10 == 0 then return cubefsWrite() end
    return cubefsRead(false)
  end
  if kind:sub(1, 11) == "cubefs-get:" then return wrk.format("GET", kind:sub(12)) end
  if kind == "etcd-write" then return etcdWrite() end
  if kind == "etcd-read" then return etcdRead(false) end
  if kind == "etcd-read-serializable" then return etcdRead(true) end
  if kind == "etcd-mixed" then
    counter = counter + 1
    if counter % 10 == 0 then return etcdWrite() end
    return etcdRead(false)
  end
  error("unknown workload " .. kind)
end

function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  elseif kind:sub(1, 6) == "cubefs" and body:sub(1, 9) ~= '{"code":0' then
    failures = failures + 1
  elseif (kind == "etcd-read" or kind == "etcd-read-serializable") and not body:find('"kvs"', 1, true) then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local f = 0
  for _, t in ipairs(threads) do f = f + (t:get("failures") or 0) end
  io.write(string.format("WRK requests=%d seconds=%.3f p50us=%d p99us=%d p999us=%d failures=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency:percentile(99.9), f))
end
