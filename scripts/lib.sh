# Shared pieces of the measuring scripts: a throwaway PostgreSQL cluster and a kolab build.
# Source it; it defines functions only.

pg_bin() {
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return 0; fi
  local dir; dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ]; then
    echo "PostgreSQL server programs not found: install them with 'apt-get install -y postgresql'" >&2
    return 1
  fi
  echo "$dir"
}

# as_pg CMD...: runs PostgreSQL's server programs as the postgres user when we are root (initdb refuses root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_cluster DIR PORT [SETTINGS...]: a fresh cluster in DIR listening on 127.0.0.1:PORT.
start_cluster() {
  local dir=$1 port=$2; shift 2
  local bin; bin=$(pg_bin) || return 1
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U kolab --auth=trust --encoding=UTF8 --locale=C --no-sync >/dev/null
  local opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200"
  for s in "$@"; do opts="$opts -c $s"; done
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "$opts" -w start >/dev/null
  psql -h 127.0.0.1 -p "$port" -U kolab -d postgres -qc "CREATE DATABASE kolab" >/dev/null
}

stop_cluster() {
  local dir=$1 bin; bin=$(pg_bin) || return 0
  [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

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
