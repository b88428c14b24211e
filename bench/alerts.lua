-- wrk script: POSTs Alertmanager v4 webhooks, each alert with its own instance label and fingerprint,
-- and prints one JSON line of results at the end. Environment: BENCH_TOKEN, BENCH_RUN (a prefix that
-- makes this run's alerts distinct from every earlier run's), BENCH_RUN_ID (a number, the same for fingerprints),
-- BENCH_HOOK_BATCH (alerts per request, default 1; Alertmanager groups alerts into one notification).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = id
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
end

function request()
  counter = counter + 1
  local batch = tonumber(os.getenv("BENCH_HOOK_BATCH") or "1") or 1
  local first = string.format("%st%dr%d", os.getenv("BENCH_RUN") or "", thread_id, counter)
  local alerts = {}
  for i = 1, batch do
    local name = first
    if batch > 1 then name = first .. "a" .. i end
    table.insert(alerts, '{"status":"firing","labels":{"alertname":"BenchAlert","instance":"' .. name ..
      '","severity":"warning"},"annotations":{"summary":"bench alert ' .. name .. '"},' ..
      '"startsAt":"2026-11-27T00:00:00Z","endsAt":"0001-01-01T00:00:00Z",' ..
      '"generatorURL":"http://prometheus.example/graph","fingerprint":"' ..
      string.format("%04x%04x%08x%04x", tonumber(os.getenv("BENCH_RUN_ID") or "0"), thread_id, counter, i) .. '"}')
  end
  local body = '{"version":"4","groupKey":"{}:{alertname=\\"BenchAlert\\",instance=\\"' .. first ..
    '\\"}","truncatedAlerts":0,"status":"firing","receiver":"parley","groupLabels":{"alertname":"BenchAlert"},' ..
    '"commonLabels":{"alertname":"BenchAlert"},"commonAnnotations":{},"externalURL":"http://alertmanager.example",' ..
    '"alerts":[' .. table.concat(alerts, ",") .. ']}'
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "errors": %d, "status_errors": %d, "seconds": %.3f, "per_second": %.1f, ' ..
    '"p50_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, errors, summary.errors.status, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
