-- bench/wrk-stats.lua: wrk's summary as one machine-readable line, for
-- bench/compare.sh (wrk -s bench/wrk-stats.lua ...). Latencies in
-- microseconds, the duration too; bytes are all response bytes read
-- (headers and bodies).
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "wrkstat requests=%d duration_us=%d bytes=%d err_connect=%d err_read=%d " ..
        "err_write=%d err_status=%d err_timeout=%d p50_us=%d p99_us=%d p999_us=%d\n",
        summary.requests, summary.duration, summary.bytes, e.connect, e.read,
        e.write, e.status, e.timeout, latency:percentile(50.0),
        latency:percentile(99.0), latency:percentile(99.9)))
end
