-- What get.lua and save.lua share (loaded with require: bench/load.py runs wrk in this folder).
-- Each thread counts its bad responses in `bad` and keeps the first one's summary in `sample`;
-- at the end the main state adds them up and prints "BENCH {json}" for bench/load.py.
local common = {}
local threads = {}

function common.track(thread)
  table.insert(threads, thread)
end

function common.report()
  local total, first = 0, ""
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
    if first == "" then
      first = thread:get("sample")
    end
  end
  io.write(string.format('BENCH {"bad": %d, "sample": "%s"}\n', total, first))
end

return common
