-- read_detail: GET /v1/deliverables/{id} as the deliverable's KOL, random ids from detail.map ("token id" lines).
-- A second argument replaces the path's prefix (the bare endpoint: /bare/deliverables/).
local pairs_, prefix = {}, "/v1/deliverables/"
init = function(args)
  prefix = args[2] or prefix
  for line in io.lines(args[1]) do
    local token, id = line:match("(%S+) (%S+)")
    pairs_[#pairs_ + 1] = { token, id }
  end
  math.randomseed(os.time() + #pairs_)
end
request = function()
  local p = pairs_[math.random(#pairs_)]
  return wrk.format("GET", prefix .. p[2], { ["Authorization"] = "Bearer " .. p[1] })
end
