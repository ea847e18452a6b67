-- read_list: GET /v1/worklist as officer1, who runs one campaign in ten.
wrk.headers["Authorization"] = "Bearer bench-officer1"
wrk.path = "/v1/worklist"
