"""Webhook delivery figures (scripts/bench-webhooks, and the webhook scenario of scripts/bench): the sustained
delivery rate of two `kolab serve` instances on one database, and commit-to-receipt latency, against the
local always-2xx receiver (scripts/webhook_receiver.py). See scripts/bench-webhooks for what is measured.
"""
import json, os, re, shutil, subprocess, sys, tempfile, time, urllib.request
import base64, hashlib, hmac
from pathlib import Path

from kolabtools import (ROOT, SCRIPTS, Cluster, Process, cpu_seconds, free_port, http, percentile, run, say)

ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@kolab.id", "bench-webhooks-2026"
RATE_TARGET, MEDIAN_TARGET_MS, P99_TARGET_MS = 500, 50, 250


def wait_until_up(url, process, seconds=120):
    process.url_probe = url
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not process.alive():
            sys.exit(f"{process.name} exited; see {process.log}:\n" + Path(process.log).read_text()[-2000:])
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"{process.name} did not answer {url} within {seconds} s; see {process.log}")


def postgres_cpu(cluster):
    """CPU seconds of the postmaster and every backend it runs now (a backend that exited is not counted)."""
    return cpu_seconds(cluster.pids(), children=False)


def delivered_metric(url):
    try:
        text = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
    except Exception:
        return None
    match = re.search(r'^kolab_webhook_deliveries_total\{outcome="delivered"\}\s+([\d.e+]+)', text, re.M)
    return float(match.group(1)) if match else 0.0


def verify(secret, record):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{record['id']}.{record['timestamp']}.".encode() + record["body"].encode(),
                                         hashlib.sha256).digest()).decode()
    entries = [entry.partition(",") for entry in record["signature"].split(" ")]
    fresh = record["timestamp"].isdigit() and abs(record["at"] - int(record["timestamp"])) <= 300
    return fresh and any(version == "v1" and hmac.compare_digest(signature, expected) for version, _, signature in entries)


class WebhookBench:
    def __init__(self, args, kolab):
        self.kolab = kolab
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="kolab-bench-webhooks-"))
        os.chmod(self.work, 0o755)
        self.cluster = Cluster(self.work / "pg", free_port(), settings=["shared_buffers=512MB"], statements=True)
        self.instances = []
        self.receiver = None
        self.results = {}

    # -- the pieces ---------------------------------------------------------------------------------

    def receiver_stats(self):
        return http("GET", f"{self.receiver_url}/_stats")[1]

    def receiver_dump(self):
        return http("GET", f"{self.receiver_url}/_dump", timeout=120)[1]

    def receiver_reset(self):
        http("GET", f"{self.receiver_url}/_reset")

    def start(self):
        kolab = self.kolab
        head = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture=True, check=False).stdout.strip()
        dirty = run(["git", "status", "--porcelain", "--", "Sources", "sql", "Package.swift"], cwd=ROOT, capture=True,
                    check=False).stdout.splitlines()
        say(f"Tree: commit {head or '?'}" + (f" with {len(dirty)} changed file(s) under Sources/, sql/" if dirty else ", clean"))
        say(f"Cluster: {self.cluster.folder} (port {self.cluster.port}, fsync on)")
        self.cluster.create()
        run([str(kolab), "migrate", "--log-level", "warning", "--database-url", self.cluster.url], cwd=ROOT, capture=True)
        run([str(kolab), "user", "create", "--log-level", "warning", "--database-url", self.cluster.url, "--email", ADMIN_EMAIL,
             "--password", ADMIN_PASSWORD, "--role", "admin"], cwd=ROOT, capture=True)
        secret_key = run([str(kolab), "secret-key"], capture=True).stdout.strip()

        receiver_port = free_port()
        self.receiver_url = f"http://127.0.0.1:{receiver_port}"
        hosts = [f"127.0.0.{i + 1}" for i in range(self.args.endpoints)] if self.args.distinct_hosts else ["127.0.0.1"]
        self.receiver_hosts = hosts
        self.receiver_port = receiver_port
        command = [sys.executable, str(SCRIPTS / "webhook_receiver.py"), "--port", str(receiver_port)]
        for host in hosts:
            command += ["--host", host]
        self.receiver = Process("the receiver", command, self.work / "receiver.log")
        wait_until_up(f"{self.receiver_url}/_stats", self.receiver)

        env = dict(os.environ, KOLAB_DEVELOPMENT="1", KOLAB_SECRET_KEY=secret_key, DATABASE_URL=self.cluster.url)
        for name in ("a", "b"):
            port = free_port()
            process = Process(f"kolab {name}", [str(kolab), "serve", "--port", str(port), "--log-level", "warning"],
                              self.work / f"kolab-{name}.log", env=env, cwd=ROOT)
            process.url = f"http://127.0.0.1:{port}"
            self.instances.append(process)
        for process in self.instances:
            wait_until_up(process.url + "/ready", process)
        say(f"Two kolab instances on ports {', '.join(p.url.rsplit(':', 1)[1] for p in self.instances)}; "
            f"receiver on {'/'.join(hosts)}:{receiver_port}")
        status, body = http("POST", self.instances[0].url + "/v1/auth/tokens", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        if status != 201 and status != 200:
            sys.exit(f"signing in as the admin answered {status}: {body}")
        self.token = body["token"]

    def stop(self):
        for process in self.instances + ([self.receiver] if self.receiver else []):
            process.stop()
        if self.args.keep:
            say(f"Kept the cluster running in {self.cluster.folder} (port {self.cluster.port}) and the logs in {self.work}; "
                f"stop it with: scripts/pg-cluster stop {self.cluster.folder}")
            return
        self.cluster.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def create_endpoint(self, path, host="127.0.0.1"):
        url = f"http://{host}:{self.receiver_port}{path}"
        status, body = http("POST", self.instances[0].url + "/v1/webhook-endpoints", {
            "url": url, "event_types": ["*"], "description": f"bench-webhooks {path}"}, token=self.token)
        if status != 201:
            sys.exit(f"registering {url} answered {status}: {body}")
        return body

    def delete_endpoint(self, endpoint_id):
        status, body = http("DELETE", f"{self.instances[0].url}/v1/webhook-endpoints/{endpoint_id}", token=self.token)
        if status != 204:
            sys.exit(f"deleting endpoint {endpoint_id} answered {status}: {body}")

    def insert_events(self, count):
        """One statement, N events; answers the clock right after its commit (a second statement of the same session)."""
        output = self.cluster.psql(
            "-c", "INSERT INTO events (actor_role, entity_type, entity_id, from_state, to_state) "
                  f"SELECT 'system', 'payout_batch', gen_random_uuid(), NULL, 'exported' FROM generate_series(1, {count})",
            "-c", "SELECT extract(epoch FROM clock_timestamp())").stdout.split()
        return float(output[-1])

    def wait_for(self, expected, started, label, stall_seconds=30, every=1.0):
        """Prints progress until the receiver holds `expected` messages, or nothing arrives for `stall_seconds`."""
        last_count, last_change, last_print = -1, time.time(), 0.0
        previous = None
        while True:
            stats = self.receiver_stats()
            now = time.time()
            if previous is None:
                previous = (started, 0) if now - started < every else (now, stats["count"])
            if stats["count"] != last_count:
                last_count, last_change = stats["count"], now
            if now - last_print >= every or stats["count"] >= expected:
                pending = self.cluster.query("SELECT count(*) FILTER (WHERE status = 'pending') || ' ' || "
                                             "count(*) FILTER (WHERE status = 'failed') FROM webhook_messages").split()
                rate = (stats["count"] - previous[1]) / max(1e-9, now - previous[0])
                say(f"  [{label}] {now - started:6.1f}s  received {stats['count']:>7,} / {expected:,}   {rate:7,.0f}/s now   "
                    f"pending {int(pending[0]):>6,}  failed {int(pending[1]):,}")
                previous, last_print = (now, stats["count"]), now
            if stats["count"] >= expected:
                return stats
            for process in self.instances:
                if not process.alive():
                    sys.exit(f"{process.name} exited; see {process.log}")
            if now - last_change > stall_seconds:
                say(f"  [{label}] nothing arrived for {stall_seconds} s; stopping the wait at {stats['count']:,} of {expected:,}")
                return stats
            time.sleep(min(every, 0.2))

    def snapshot_cpu(self):
        return {"kolab a": cpu_seconds(self.instances[0].pid, children=False), "kolab b": cpu_seconds(self.instances[1].pid, children=False),
                "receiver": cpu_seconds(self.receiver.pid, children=False), "postgres": postgres_cpu(self.cluster)}

    def db_outcome(self):
        statuses = dict(line.split("|") for line in self.cluster.query(
            "SELECT status, count(*) FROM webhook_messages GROUP BY 1").splitlines() if line)
        attempts = int(self.cluster.query("SELECT count(*) FROM webhook_attempts"))
        bad = self.cluster.query(
            "SELECT coalesce(status_code::text, '-') || ' ' || coalesce(error, '') || ' x' || count(*) FROM webhook_attempts "
            "WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299 GROUP BY status_code, error ORDER BY count(*) DESC LIMIT 5")
        return {k: int(v) for k, v in statuses.items()}, attempts, bad

    # -- 1. the delivery rate -----------------------------------------------------------------------

    def measure_rate(self):
        args = self.args
        endpoints = {}
        for i in range(args.endpoints):
            host = self.receiver_hosts[i % len(self.receiver_hosts)]
            body = self.create_endpoint(f"/rate/{i + 1}", host)
            endpoints[f"/rate/{i + 1}"] = body
        self.rate_endpoints = endpoints
        expected = args.events * args.endpoints
        say(f"\n1. Delivery rate: {args.endpoints} endpoints x {args.events:,} events = {expected:,} messages, two instances")
        # Warm-up: both instances open their connections (database pool, HTTP client) before the clock runs.
        warm = 50
        started = time.time()
        self.insert_events(warm)
        self.wait_for(warm * args.endpoints, started, "warm-up", stall_seconds=20, every=5)
        time.sleep(0.5)
        self.receiver_reset()
        if self.cluster.statements:
            self.cluster.query("SELECT pg_stat_statements_reset()")
        delivered_before = [delivered_metric(p.url) for p in self.instances]
        cpu_before = self.snapshot_cpu()
        before_seq = int(self.cluster.query("SELECT coalesce(max(seq), 0) FROM events"))

        say(f"  inserting {args.events:,} events in one statement...")
        issued = time.time()
        committed = self.insert_events(args.events)
        say(f"  committed after {committed - issued:.2f}s (the statement, with the trigger writing {expected:,} messages)")
        stats = self.wait_for(expected, committed, "rate")
        cpu_after = self.snapshot_cpu()
        delivered_after = [delivered_metric(p.url) for p in self.instances]
        wall = (stats["last"] or committed) - committed
        say("  collecting the receiver's records and checking them...")
        records = self.receiver_dump()
        ids = [r["id"] for r in records]
        duplicates = len(ids) - len(set(ids))
        secrets = {path: body["secret"] for path, body in endpoints.items()}
        valid = sum(1 for r in records if r["path"] in secrets and verify(secrets[r["path"]], r))
        event_ids = set(self.cluster.query(f"SELECT id FROM events WHERE seq > {before_seq}").split())
        pairs = set()
        for r in records:
            try:
                pairs.add((r["path"], json.loads(r["body"])["data"]["event_id"]))
            except (ValueError, KeyError, TypeError):
                pass
        missing = sum(1 for path in endpoints for event in event_ids if (path, event) not in pairs)
        arrivals = sorted(r["at"] for r in records)
        # The middle 80% of the arrivals: the rate once both instances are at full speed.
        steady = None
        if len(arrivals) >= 10:
            lo, hi = arrivals[len(arrivals) // 10], arrivals[len(arrivals) * 9 // 10]
            steady = (len(arrivals) * 8 // 10) / max(1e-9, hi - lo)
        statuses, attempts, bad = self.db_outcome()
        unique = len(set(ids))
        rate = unique / wall if wall > 0 else 0.0
        self.results["rate"] = {
            "messages_expected": expected, "messages_received": len(records), "unique": unique, "duplicates": duplicates,
            "missing": missing, "signatures_valid": valid, "seconds": round(wall, 3), "rate": round(rate, 1),
            "steady_rate": round(steady, 1) if steady else None,
            "first_arrival_ms": round(((arrivals[0] if arrivals else committed) - committed) * 1000, 1),
            "insert_seconds": round(committed - issued, 3), "statuses": statuses, "attempts": attempts, "bad_attempts": bad,
            "per_instance": [None if a is None or b is None else int(a - b) for a, b in zip(delivered_after, delivered_before)],
            "cpu_seconds": {k: round(cpu_after[k] - cpu_before[k], 2) for k in cpu_before}, "wall": wall,
            "new_connections": stats.get("connections"),
        }
        if self.cluster.statements:
            self.results["rate"]["statements"] = self.cluster.query(
                "SELECT round(total_exec_time)::text || ' ms | ' || calls || ' calls | ' || round(mean_exec_time::numeric, 3) || ' ms | ' "
                "|| regexp_replace(left(query, 110), '\\s+', ' ', 'g') FROM pg_stat_statements "
                "WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 8").splitlines()
        say(f"  {unique:,} messages in {wall:.2f}s after the commit: {rate:,.0f} messages/s "
            f"({steady:,.0f}/s over the middle 80% of arrivals)" if steady else f"  {unique:,} messages in {wall:.2f}s")

    # -- 2. latency ---------------------------------------------------------------------------------

    def measure_latency(self):
        args = self.args
        for body in self.rate_endpoints.values():
            self.delete_endpoint(body["id"])
        say(f"\n2. Latency: one endpoint, {args.rate} events per second (one per transaction, pgbench) for {args.seconds} s")
        endpoint = self.create_endpoint("/latency")
        self.receiver_reset()
        started = time.time()
        self.insert_events(10)
        self.wait_for(10, started, "warm-up", stall_seconds=20, every=5)
        time.sleep(0.5)
        self.receiver_reset()
        before_seq = int(self.cluster.query("SELECT coalesce(max(seq), 0) FROM events"))
        script = self.work / "event.pgbench"
        script.write_text("INSERT INTO events (actor_role, entity_type, entity_id, from_state, to_state) "
                          "VALUES ('system', 'payout_batch', gen_random_uuid(), NULL, 'exported');\n")
        os.chmod(script, 0o644)
        command = ["pgbench", "-h", "127.0.0.1", "-p", str(self.cluster.port), "-U", "kolab", "-n", "-c", "2", "-j", "1",
                   "-R", str(args.rate), "-T", str(args.seconds), "-P", "5", "-f", str(script), "kolab"]
        started = time.time()
        bench = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tail = []
        for line in bench.stdout:
            line = line.rstrip()
            tail.append(line)
            if line.startswith("progress:"):
                say(f"  [latency] {time.time() - started:6.1f}s  pgbench {line[len('progress: '):]}  "
                    f"| received {self.receiver_stats()['count']:,}")
        if bench.wait() != 0:
            sys.exit("pgbench failed:\n" + "\n".join(tail[-20:]))
        events = dict(line.split("|") for line in self.cluster.query(
            f"SELECT id, extract(epoch FROM at) FROM events WHERE seq > {before_seq}").splitlines() if line)
        stats = self.wait_for(len(events), started, "latency", stall_seconds=20, every=2)
        records = self.receiver_dump()
        first = {}
        for r in records:
            try:
                event = json.loads(r["body"])["data"]["event_id"]
            except (ValueError, KeyError, TypeError):
                continue
            first[event] = min(first.get(event, r["at"]), r["at"])
        latencies = sorted((first[e] - float(at)) * 1000 for e, at in events.items() if e in first)
        ids = [r["id"] for r in records]
        valid = sum(1 for r in records if verify(endpoint["secret"], r))
        self.results["latency"] = {
            "events": len(events), "received": len(latencies), "missing": len(events) - len(latencies),
            "duplicates": len(ids) - len(set(ids)), "signatures_valid": valid, "messages": len(records),
            "median_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
            "p99_ms": round(percentile(latencies, 99), 1), "max_ms": round(latencies[-1], 1) if latencies else float("nan"),
            "min_ms": round(latencies[0], 1) if latencies else float("nan"),
            "achieved_rate": round(len(events) / args.seconds, 1), "new_connections": stats.get("connections"),
            "sample": records[0] if records else None,
        }

    # -- the report ---------------------------------------------------------------------------------

    def report(self):
        r, l = self.results.get("rate"), self.results.get("latency")
        say("\nResults")
        say(f"  {'figure':<44}{'value':>16}  {'target':<12}holds")
        rows = []
        if r:
            rows += [
                (f"delivery rate (2 instances, {self.args.endpoints} endpoints)", f"{r['rate']:,.0f} msg/s", f">= {RATE_TARGET}",
                 r["rate"] >= RATE_TARGET and r["missing"] == 0),
                ("  middle 80% of arrivals", f"{r['steady_rate'] or 0:,.0f} msg/s", "", None),
                ("  messages received / expected", f"{r['unique']:,} / {r['messages_expected']:,}", "all", r["missing"] == 0),
                ("  seconds from commit to the last one", f"{r['seconds']:.2f} s", "", None),
                ("  duplicates (by webhook-id)", f"{r['duplicates']}", "0", r["duplicates"] == 0),
                ("  signatures valid", f"{r['signatures_valid']:,} / {r['messages_received']:,}", "all",
                 r["signatures_valid"] == r["messages_received"]),
            ]
        if l:
            rows += [
                (f"latency, {self.args.rate}/s for {self.args.seconds} s: median", f"{l['median_ms']:.1f} ms", f"< {MEDIAN_TARGET_MS} ms",
                 l["median_ms"] < MEDIAN_TARGET_MS),
                ("  p95", f"{l['p95_ms']:.1f} ms", "", None),
                ("  p99", f"{l['p99_ms']:.1f} ms", f"< {P99_TARGET_MS} ms", l["p99_ms"] < P99_TARGET_MS),
                ("  max", f"{l['max_ms']:.1f} ms", "", None),
                ("  events delivered / inserted", f"{l['received']:,} / {l['events']:,}", "all", l["missing"] == 0),
                ("  duplicates (by webhook-id)", f"{l['duplicates']}", "0", l["duplicates"] == 0),
                ("  signatures valid", f"{l['signatures_valid']:,} / {l['messages']:,}", "all", l["signatures_valid"] == l["messages"]),
            ]
        for name, value, target, holds in rows:
            say(f"  {name:<44}{value:>16}  {target:<12}{'' if holds is None else 'yes' if holds else 'NO'}")
        if r:
            cpu = r["cpu_seconds"]
            say(f"\n  CPU during the rate run ({r['wall']:.1f} s of wall time; 2 cores = {2 * r['wall']:.1f} CPU-s): "
                + ", ".join(f"{k} {v:.1f} s ({100 * v / max(r['wall'], 1e-9):.0f}%)" for k, v in cpu.items()))
            shares = r["per_instance"]
            if None not in shares:
                say(f"  delivered per instance (kolab_webhook_deliveries_total): a {shares[0]:,}, b {shares[1]:,}")
            say(f"  insert of {self.args.events:,} events (trigger included): {r['insert_seconds']:.2f} s; "
                f"first arrival {r['first_arrival_ms']:.0f} ms after the commit")
            say(f"  connections the receiver saw opened during the run (after the warm-up's): {r['new_connections']:,} "
                f"for {r['unique']:,} messages")
            say(f"  outbox after the run: {r['statuses']}, {r['attempts']:,} attempts"
                + (f"; unsuccessful attempts: {r['bad_attempts']}" if r["bad_attempts"] else ""))
            if r.get("statements"):
                say("  PostgreSQL's busiest statements during the rate run (total | calls | mean | query):")
                for line in r["statements"]:
                    say(f"    {line}")
        if l:
            say(f"\n  latency run: {l['events']:,} events ({l['achieved_rate']}/s), lowest {l['min_ms']:.1f} ms; "
                f"connections opened after the warm-up: {l['new_connections']}")
            if l["sample"]:
                say(f"  a message as received: webhook-id {l['sample']['id']}, webhook-timestamp {l['sample']['timestamp']}")
                say(f"    {l['sample']['body']}")
        say("")
        if r:
            ok = r["rate"] >= RATE_TARGET and r["missing"] == 0
            say(f"Target delivery rate >= {RATE_TARGET} messages/s with two instances: {'HOLDS' if ok else 'DOES NOT HOLD'} "
                f"({r['rate']:,.0f}/s, {r['missing']} missing, {r['duplicates']} duplicates)")
        if l:
            say(f"Target latency median < {MEDIAN_TARGET_MS} ms: {'HOLDS' if l['median_ms'] < MEDIAN_TARGET_MS else 'DOES NOT HOLD'} "
                f"({l['median_ms']:.1f} ms)")
            say(f"Target latency p99 < {P99_TARGET_MS} ms: {'HOLDS' if l['p99_ms'] < P99_TARGET_MS else 'DOES NOT HOLD'} "
                f"({l['p99_ms']:.1f} ms)")
        if self.args.json:
            Path(self.args.json).write_text(json.dumps(self.results, indent=2) + "\n")
            say(f"Figures written to {self.args.json}")
        return all(holds is not False for _, _, _, holds in rows)


