-- read_list: GET /v1/campaigns?status=recruiting&limit=50 as random KOLs (tokens from detail.map).
local tokens = {}
init = function(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line:match("(%S+)") end
  math.randomseed(os.time() + #tokens)
end
request = function()
  return wrk.format("GET", "/v1/campaigns?status=recruiting&limit=50", { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
end
