-- The quiz autosave as the page's script sends it: POST /attempts/<id>/items/<position> with a
-- JSON answer, the session cookie and the CSRF header (BENCH_COOKIE, BENCH_CSRF, BENCH_ATTEMPT,
-- BENCH_POSITIONS, BENCH_CHOICES from a Python sign-in and a started attempt). Every request
-- saves another answer: positions and choices rotate (each thread starts elsewhere), so every
-- request is a real write to a valid, unexpired, in-progress attempt. A response that is not
-- 200 with "saved":true is counted as bad; prints "BENCH {json}" for bench/load.py.
local common = require("common")
local attempt = os.getenv("BENCH_ATTEMPT")
local positions = tonumber(os.getenv("BENCH_POSITIONS"))
local choices = tonumber(os.getenv("BENCH_CHOICES"))

wrk.method = "POST"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.headers["X-CSRFToken"] = os.getenv("BENCH_CSRF")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["User-Agent"] = "learnhub-bench"

local count = 0

function setup(thread)
  count = count + 1
  thread:set("offset", count * 7)
  common.track(thread)
end

function init(args)
  bad = 0
  sample = ""
  n = offset or 0
end

function request()
  n = n + 1
  local position = (n % positions) + 1
  local choice = math.floor(n / positions) % choices
  return wrk.format(nil, "/attempts/" .. attempt .. "/items/" .. position, nil,
    '{"choice": ' .. choice .. '}')
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"saved":true', 1, true) then
    bad = bad + 1
    if sample == "" then
      sample = "HTTP " .. status .. " " .. string.sub(body, 1, 80):gsub('[^%w :,_%-]', '')
    end
  end
end

function done(summary, latency, requests)
  common.report()
end
