-- POST /v1/generations (asynchronous: 202) with each request signed by the next user's API key.
-- BENCH_KEYS names a file with one key per line; rate limits are per user, so load spreads.
-- BENCH_BODY names the file holding the request body (bench/wrk/generation.json).
local keys = {}
for line in io.lines(os.getenv("BENCH_KEYS")) do
  keys[#keys + 1] = line
end
local sent = 0

wrk.method = "POST"
local body = io.open(os.getenv("BENCH_BODY"))
wrk.body = body:read("*a")
body:close()

request = function()
  sent = sent + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. keys[(sent % #keys) + 1],
  }
  return wrk.format(nil, nil, headers, nil)
end
