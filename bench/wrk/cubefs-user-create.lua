-- wrk script: POST /user/create with a fresh user id per request (thread id + counter), counting
-- CubeFS envelope failures (HTTP 200 with code != 0) as errors; prints p50/p99/p99.9 at the end.
local counter = 0
local failures = 0
local tid = 0
local threads = {}

function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
  table.insert(threads, thread)
end

function init(args)
  prefix = (args[1] or "w") .. tostring(tid)
end

function request()
  counter = counter + 1
  local body = '{"id":"' .. prefix .. "_" .. counter .. '","type":2}'
  return wrk.format("POST", "/user/create", { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status ~= 200 or string.sub(body, 1, 9) ~= '{"code":0' then failures = failures + 1 end
end

function done(summary, latency, requests)
  local f = 0
  for _, t in ipairs(threads) do f = f + (t:get("failures") or 0) end
  io.write(string.format("WRK requests=%d seconds=%.3f p50us=%d p99us=%d p999us=%d failures=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency:percentile(99.9), f))
end
