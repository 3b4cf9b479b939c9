-- wrk script for bench/run.py.
--   BENCH_PATHS=file  cycle through the paths in the file (one a line), spreading the
--                     load over many distinct pages instead of one
--   BENCH_BUST=1      append a query parameter unique to each request, so that no cache
--                     keyed on the URL can answer: every request is rendered ("cold")
-- done() prints one line of JSON, which run.py reads.

local paths = nil
local file = os.getenv("BENCH_PATHS")
if file and file ~= "" then
  paths = {}
  for line in io.lines(file) do
    if line ~= "" then paths[#paths + 1] = line end
  end
end
local bust = os.getenv("BENCH_BUST") == "1"

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

if paths or bust then
  local counter = 0
  function request()
    counter = counter + 1
    local path = wrk.path
    if paths then
      -- threads start at different points of the list so they do not move in step
      path = paths[(counter + (tid or 0) * 7919) % #paths + 1]
    end
    if bust then
      local sep = string.find(path, "?", 1, true) and "&" or "?"
      path = path .. sep .. "_bench=" .. (tid or 0) .. "." .. counter
    end
    return wrk.format(nil, path)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
