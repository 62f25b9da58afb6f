-- With WRK_PATHS set to a file of paths, one per line, each connection's next request asks the next
-- path in turn (each wrk thread runs its own copy of this script).
local paths_file = os.getenv("WRK_PATHS")
if paths_file then
  local paths = {}
  for line in io.lines(paths_file) do
    paths[#paths + 1] = line
  end
  local next_path = 0
  request = function()
    next_path = next_path % #paths + 1
    return wrk.format(nil, paths[next_path])
  end
end

-- Prints one JSON line after a wrk run: request count, errors and latency percentiles (microseconds).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"status_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
