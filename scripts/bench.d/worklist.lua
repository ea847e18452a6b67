-- read_list (worklist): GET /v1/worklist as officer1, who runs one campaign in ten (the ceiling's H is a plain GET, not this script).
wrk.headers["Authorization"] = "Bearer bench-officer1"
wrk.path = "/v1/worklist"
