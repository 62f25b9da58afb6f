-- WRK_PATHS names a file of lines "path" or "path<TAB>If-None-Match value"; each request of a
-- connection asks the next line in turn (each wrk thread starts at its own offset).
local lines = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  local path, tag = line:match("^([^\t]+)\t(.+)$")
  lines[#lines + 1] = {path or line, tag}
end
local counter = 0
next_line = 0

setup = function(thread)
  thread:set("next_line", counter * math.floor(#lines / 7))
  counter = counter + 1
end

request = function()
  next_line = next_line % #lines + 1
  local entry = lines[next_line]
  local headers = nil
  if entry[2] then
    headers = {["If-None-Match"] = entry[2]}
  end
  return wrk.format(nil, entry[1], headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"status_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
