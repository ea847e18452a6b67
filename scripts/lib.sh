# Shared pieces of the shell scripts: a kolab build, the service's readiness, a sign-in.
# Source it; it defines functions only. The throwaway PostgreSQL cluster is scripts/pg-cluster's.

# build_kolab CONFIG: builds and prints the path of the kolab executable.
build_kolab() {
  local config=$1
  echo "Building kolab ($config)..." >&2
  swift build -c "$config" --product kolab >&2
  echo "$(swift build -c "$config" --show-bin-path)/kolab"
}

# rss_kb PID: resident memory of a process, in KiB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# wait_ready URL: waits up to 60 s for the service to answer /ready.
wait_ready() {
  for _ in $(seq 1 300); do curl -fs "$1/ready" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "the service did not become ready at $1" >&2; return 1
}

# login URL EMAIL PASSWORD: prints a bearer token.
login() {
  curl -fs -X POST "$1/v1/auth/tokens" -d "{\"email\":\"$2\",\"password\":\"$3\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
