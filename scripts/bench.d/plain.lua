-- wrk script: the load generator's ceiling against a trivial endpoint (GET /healthz).
function done(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.1f %.1f %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
