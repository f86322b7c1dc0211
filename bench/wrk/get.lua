-- GET the URL given to wrk, signed in when BENCH_COOKIE is set (the session cookie of a learner
-- who signed in through the real form). Counts every response that is not 200 (a redirect to
-- the sign-in page included, which wrk itself would count as a success) and prints
-- "BENCH {json}" for bench/load.py.
local common = require("common")
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
wrk.headers["User-Agent"] = "learnhub-bench"

function setup(thread)
  common.track(thread)
end

function init(args)
  bad = 0
  sample = ""
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if sample == "" then
      sample = "HTTP " .. status
    end
  end
end

function done(summary, latency, requests)
  common.report()
end
