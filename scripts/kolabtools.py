"""Shared pieces of Kolab's Python measuring scripts (scripts/bench, bench-webhooks, measure-console).

Imported with `sys.path.insert(0, <scripts folder>)`; Python 3 standard library only. The throwaway
PostgreSQL cluster itself is scripts/pg-cluster's (the one place that runs initdb and pg_ctl): Cluster
here shells out to it.
"""
import base64, json, math, os, re, shutil, signal, socket, subprocess, sys, time, urllib.error, urllib.parse
import urllib.request
import http.client as http_client
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
PG_CLUSTER = SCRIPTS / "pg-cluster"
AS_ROOT = os.getuid() == 0
TICKS = os.sysconf("SC_CLK_TCK")


def say(message=""):
    print(message, flush=True)


def run(command, check=True, capture=False, **kwargs):
    return subprocess.run(command, check=check, text=True, capture_output=capture, **kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def swift_builds_running():
    """Other builds on this machine (they share its 2 cores): a figure taken meanwhile is not a quiet one."""
    found = run(["pgrep", "-f", "swift-build"], check=False, capture=True).stdout.split()
    return len(found)


def ensure_tools(tools):
    """The command-line tools a script needs; as root, the missing ones are installed with apt-get."""
    packages = {"wrk": "wrk", "curl": "curl", "pgbench": "postgresql-client", "psql": "postgresql-client"}
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing and AS_ROOT:
        say(f"Installing {', '.join(missing)} with apt-get...")
        run(["apt-get", "update", "-q"], capture=True)
        run(["apt-get", "install", "-y", "-q"] + sorted({packages.get(t, t) for t in missing}), capture=True)
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        sys.exit(f"Missing {', '.join(missing)}: install them (Debian: apt-get install -y "
                 f"{' '.join(sorted({packages.get(t, t) for t in missing}))})")


def release_binary(product="kolab", given=None):
    """.build/release/PRODUCT, built first when it is missing or older than anything under Sources/ (or the manifest)."""
    if given:
        return Path(given).resolve()
    binary = ROOT / ".build" / "release" / product
    inputs = [p for p in (ROOT / "Sources").rglob("*") if p.is_file()] + [ROOT / "Package.swift", ROOT / "Package.resolved"]
    newest = max((p.stat().st_mtime for p in inputs if p.exists()), default=0)
    if binary.exists() and binary.stat().st_mtime >= newest:
        say(f"Using {binary.relative_to(ROOT)} (newer than Sources/)")
        return binary
    say(f"Building {product} (release): {binary.relative_to(ROOT)} is {'older than Sources/' if binary.exists() else 'missing'}. "
        f"A cold release build takes about 12 minutes here (load average {load_average()}).")
    started = time.time()
    result = run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit(f"building {product} (release) failed (above; 'modified during the build' means a source changed meanwhile: "
                 "run again)")
    say(f"  built in {time.time() - started:.0f}s")
    return binary


class Cluster:
    """A throwaway PostgreSQL cluster in `folder` on 127.0.0.1:`port`, made and run by scripts/pg-cluster.

    Default durability (fsync on) unless no_sync; `settings` are NAME=VALUE strings; `statements`
    preloads pg_stat_statements (when the server has it)."""

    def __init__(self, folder, port, no_sync=False, settings=(), statements=False):
        self.folder, self.port = Path(folder), port
        self.no_sync, self.settings, self.statements = no_sync, list(settings), statements
        self.url = f"postgres://kolab@127.0.0.1:{port}/kolab?sslmode=disable"
        self.started = False

    def start(self):
        """Makes the cluster when the folder has none, and starts it."""
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        command = [str(PG_CLUSTER), "start", str(self.folder), str(self.port)] + (["--no-sync"] if self.no_sync else [])
        command += (["--statements"] if self.statements else []) + sum((["--set", s] for s in self.settings), [])
        result = run(command, check=False, capture=True)
        if result.returncode != 0:
            sys.exit(result.stderr.strip() or f"scripts/pg-cluster start {self.folder} failed")
        self.url = result.stdout.strip()
        self.started = True
        if self.statements:
            self.statements = self.query("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'") == "1"
        return self

    create = start

    def stop(self, immediate=False):
        run([str(PG_CLUSTER), "stop", str(self.folder)] + (["--immediate"] if immediate else []), check=False, capture=True)
        self.started = False

    def psql(self, *args, capture=True, **kwargs):
        return run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "kolab", "-d", "kolab", "-X", "-qAt", "-v", "ON_ERROR_STOP=1",
                    *args], capture=capture, **kwargs)

    def query(self, sql):
        return self.psql("-c", sql).stdout.strip()

    def postmaster_pid(self):
        try:
            return int((self.folder / "data" / "postmaster.pid").read_text().split("\n")[0])
        except (OSError, ValueError):
            return None

    def pids(self):
        """The postmaster and its children (the backends, the background processes)."""
        postmaster = self.postmaster_pid()
        if not postmaster:
            return []
        pids = [postmaster]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                        pids.append(int(entry.name))
                except (OSError, ValueError, IndexError):
                    pass
        return pids


def secret_key():
    """A fresh service key (with DATABASE_URL the service needs one: it seals stored answers)."""
    return os.environ.get("KOLAB_SECRET_KEY") or base64.b64encode(os.urandom(32)).decode()


class Process:
    """A child process (a kolab service, the receiver, the ceiling) with its output in a log file."""

    def __init__(self, name, command, log, env=None, cwd=None, url=None):
        self.name, self.log, self.url = name, Path(log), url
        self.process = subprocess.Popen(command, stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env, cwd=cwd)

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def wait_up(self, path="/ready", seconds=180):
        """Waits until GET url+path answers 2xx; exits with the log's tail when the process stops or time runs out."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if not self.alive():
                sys.exit(f"{self.name} exited before it was up; the end of {self.log}:\n" + self.log.read_text()[-2000:])
            try:
                urllib.request.urlopen(self.url + path, timeout=1)
                return self
            except Exception:
                time.sleep(0.1)
        sys.exit(f"{self.name} did not answer {self.url + path} within {seconds} s; see {self.log}")

    def rss_mb(self):
        try:
            for line in open(f"/proc/{self.process.pid}/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def stop(self):
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def kolab_serve(kolab, port, database_url, log, name="kolab", extra=(), env=None):
    """`kolab serve` on 127.0.0.1:port against database_url (not yet waited for: call .wait_up())."""
    environment = dict(os.environ, DATABASE_URL=database_url, KOLAB_HOME=str(ROOT), **(env or {}))
    environment.setdefault("KOLAB_SECRET_KEY", secret_key())
    return Process(name, [str(kolab), "serve", "--hostname", "127.0.0.1", "--port", str(port), "--log-level", "warning", *extra], log,
                   env=environment, cwd=ROOT, url=f"http://127.0.0.1:{port}")


def http(method, url, body=None, token=None, timeout=30):
    """A JSON request: (status, decoded body or text)."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read()
            return response.status, (json.loads(data) if data else None)
    except urllib.error.HTTPError as error:
        data = error.read()
        try:
            return error.code, json.loads(data)
        except ValueError:
            return error.code, data.decode(errors="replace")


def request(base, method, path, headers=None, body=None):
    """One HTTP request (redirects not followed): (status, headers as a list of pairs, body bytes)."""
    parsed = urllib.parse.urlsplit(base)
    connection = http_client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def cpu_seconds(pids, children=True):
    """User + system CPU seconds of these processes (with their exited children's when `children`)."""
    total = 0
    for pid in ([pids] if isinstance(pids, int) else pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15 if children else 13])  # utime stime [cutime cstime]
    return total / TICKS


def percentile(ordered, p):
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# Counts every answer's status in each wrk thread; `done` prints the totals (a warm-up's check).
STATUS_LUA = """
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) ok = 0; other = 0; first = "" end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 else
    other = other + 1
    if first == "" then first = tostring(status) end
  end
end
done = function(summary, latency, requests)
  local ok_, other_, first_ = 0, 0, ""
  for _, t in ipairs(threads) do
    ok_ = ok_ + t:get("ok"); other_ = other_ + t:get("other")
    if first_ == "" then first_ = t:get("first") end
  end
  io.write(string.format("STATUS ok=%d other=%d first=%s\\n", ok_, other_, first_))
end
"""


def parse_wrk(output):
    def latency(percent):
        match = re.search(rf"^\s+{percent}(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    requests = re.search(r"(\d+) requests in ([\d.]+)(\w+), ([\d.]+)(\w+) read", output)
    status = re.search(r"STATUS ok=(\d+) other=(\d+) first=(\S*)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), "p50_ms": latency(50), "p99_ms": latency(99),
            "requests": int(requests.group(1)) if requests else 0, "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": sum(int(x) for x in sockets.groups()) if sockets else 0,
            "status_ok": int(status.group(1)) if status else None, "status_other": int(status.group(2)) if status else None,
            "status_first": status.group(3) if status else ""}


def wrk(url, seconds, connections=32, threads=2, script=None, script_args=(), headers=()):
    """One wrk run (with --latency): its parsed figures. Exits with wrk's message when it fails."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    command += (["-s", str(script)] if script else []) + [url] + (["--", *script_args] if script_args else [])
    result = run(command, capture=True, check=False)
    if result.returncode != 0:
        sys.exit(f"wrk failed ({' '.join(command)}): {result.stderr.strip()}")
    return parse_wrk(result.stdout)


def cookie(headers, name):
    for key, value in headers:
        if key.lower() == "set-cookie" and value.startswith(name + "="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


def sign_in_form(base, email, password):
    """The console's sign-in form as a browser sends it (GET for the CSRF cookie and field, then POST): 'kolab_session=...'."""
    status, headers, body = request(base, "GET", "/app/login")
    if status != 200:
        sys.exit(f"GET /app/login answered {status}")
    csrf_cookie = cookie(headers, "kolab_csrf")
    match = re.search(rb'name="csrf_token" value="([^"]+)"', body)
    if not csrf_cookie or not match:
        sys.exit("GET /app/login gave no kolab_csrf cookie or no csrf_token field")
    form = urllib.parse.urlencode({"csrf_token": match.group(1).decode(), "email": email, "password": password, "next": "/app"})
    status, headers, _ = request(base, "POST", "/app/login", {"Cookie": f"kolab_csrf={csrf_cookie}",
                                                              "Content-Type": "application/x-www-form-urlencoded"}, form)
    session = cookie(headers, "kolab_session")
    if status not in (302, 303) or not session:
        sys.exit(f"POST /app/login answered {status} without a kolab_session cookie")
    return f"kolab_session={session}"


def api_token(base, email, password):
    status, _, body = request(base, "POST", "/v1/auth/tokens", {"Content-Type": "application/json"},
                              json.dumps({"email": email, "password": password}))
    if status not in (200, 201):
        sys.exit(f"POST /v1/auth/tokens as {email} answered {status}: {body[:200]!r}")
    return json.loads(body)["token"]
