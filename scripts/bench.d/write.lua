-- write_transition: on approved deliverables, the KOL posts proof (approved -> posted), then the officer
-- rejects it (posted -> approved), again and again; each transition writes its event. Each wrk thread
-- takes its own share of write.map ("kol_token officer_token id" lines) round-robin, so no two requests
-- in flight touch one deliverable.
local counter = 0
setup = function(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local rows, state, next_ = {}, {}, 0
-- wrk calls request() once on the first thread's state before the run, only to check what it returns
-- (script_verify_request); that request is never sent. Answered without moving the round-robin, or
-- the first row's state would be one step ahead of its deliverable's (one 409 in every run).
local verifying = false
init = function(args)
  verifying = (tid == 0)
  local all = {}
  for line in io.lines(args[1]) do
    local kol, officer, id = line:match("(%S+) (%S+) (%S+)")
    all[#all + 1] = { kol, officer, id }
  end
  local threads = tonumber(args[2])
  for i = 1, #all do
    if (i - 1) % threads == tid then rows[#rows + 1] = all[i] end
  end
end
request = function()
  if verifying then
    verifying = false
    return wrk.format("GET", "/ready")
  end
  next_ = next_ % #rows + 1
  local r = rows[next_]
  if state[next_] == "posted" then
    state[next_] = "approved"
    return wrk.format("POST", "/v1/deliverables/" .. r[3] .. "/post/reject",
      { ["Authorization"] = "Bearer " .. r[2], ["Content-Type"] = "application/json" }, '{"reason":"bench: wrong link"}')
  end
  state[next_] = "posted"
  return wrk.format("POST", "/v1/deliverables/" .. r[3] .. "/post",
    { ["Authorization"] = "Bearer " .. r[1], ["Content-Type"] = "application/json" },
    '{"url":"https://instagram.com/p/bench","posted_at":"2026-11-01T10:00:00Z"}')
end
