#!/usr/bin/env python3
"""Fault runs: publish a burst of clauses while the server or the database is taken down.

Usage: scripts/faults.py [--clauses N] [--fault sigkill|db-restart|search-restart|none]
                         [--via graphql|import] [--database-url URL] [--meili-bin PATH]
                         [--bin target/release/commons]

Seeds ten organisations, starts `commons serve`, and publishes N clauses from four client
threads, one createClause and publishClause at a time (`--via graphql`, the default), or from
two threads posting 200-clause batches to the bulk import (`--via import`, which the indexer
takes as bursts, staged and committed once). Part-way through it injects the fault:
  sigkill     the server is killed with SIGKILL (twice, at 30 % and 60 %) and restarted;
  db-restart  PostgreSQL is restarted (needs --database-url, a postgres:// URL on whose
              server this script may create a database);
  search-restart
              the server searches a Meilisearch this script runs (needs --meili-bin, the
              path of a `meilisearch` binary; its data lives in a temporary folder), which is
              stopped (SIGTERM), left down for five seconds and started again, twice;
  none        no fault: the end-to-end publish-and-index rate through the API.
Clients retry through the outage; a publish or import batch whose answer was lost is checked
before it is sent again, so nothing is published twice on purpose. Afterwards it waits for the index to
catch up and checks, through the API only:
  - every clause a client saw published is published;
  - the search index holds exactly the published clauses;
  - the change feed holds exactly one UPSERT per published clause version (none lost, none
    doubled).
Prints one JSON line with the outcome and exits 1 if a check fails.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SECRET = "faults-secret"
PORT = int(os.environ.get("PORT", "18090"))
URL = f"http://127.0.0.1:{PORT}"
MEILI_URL = f"http://127.0.0.1:{PORT + 1}"
MEILI_KEY = "faults-meili-master-key-0123456789"


def gql(query, variables=None, token=None, timeout=10):
    headers = {"content-type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(URL + "/graphql", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = json.load(response)
    if data.get("errors"):
        raise RuntimeError(json.dumps(data["errors"])[:300])
    return data["data"]


def retrying(call, deadline=120):
    started = time.time()
    while True:
        try:
            return call()
        except (urllib.error.URLError, ConnectionError, TimeoutError, RuntimeError, OSError) as error:
            if isinstance(error, RuntimeError) and "INTERNAL" not in str(error) and "UNAVAILABLE" not in str(error):
                raise
            if time.time() - started > deadline:
                raise
            time.sleep(0.2)


def wait_until_up(url, what, tries):
    for _ in range(tries):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not come up")


class Process:
    """A child process this script starts, stops and restarts."""

    process = None

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


class Meilisearch(Process):
    """A Meilisearch of this script's own, on loopback, with its data kept across restarts."""

    def __init__(self, binary, data_dir):
        self.binary, self.data_dir = binary, data_dir

    def start(self):
        log = open(os.path.join(self.data_dir, "meilisearch.log"), "ab")
        self.process = subprocess.Popen(
            [self.binary, "--db-path", os.path.join(self.data_dir, "meili"),
             "--http-addr", MEILI_URL.removeprefix("http://"), "--master-key", MEILI_KEY,
             "--no-analytics", "--env", "development"],
            stdout=log, stderr=log, cwd=self.data_dir)
        wait_until_up(MEILI_URL + "/health", "Meilisearch", 600)

    def env(self):
        return {"MEILI_URL": MEILI_URL, "MEILI_MASTER_KEY": MEILI_KEY,
                "MEILI_INDEX": "faults_clauses", "MEILI_TEMPLATE_INDEX": "faults_templates"}


class Server(Process):
    def __init__(self, binary, data_dir, database_url, extra_env=None):
        self.binary, self.data_dir, self.database_url = binary, data_dir, database_url
        self.extra_env = extra_env or {}

    def start(self):
        args = [self.binary, "serve", "--no-demo", "--data-dir", self.data_dir,
                "--listen", f"127.0.0.1:{PORT}"]
        if self.database_url:
            args += ["--database-url", self.database_url]
        log = open(os.path.join(self.data_dir, "server.log"), "ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=log,
                                        env={**os.environ, **self.extra_env,
                                             "COMMONS_JWT_SECRET": SECRET})
        wait_until_up(URL + "/healthz", "the server", 300)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


CLAUSE = {"text": "The supplier shall take back [100 %] of delivered devices.", "language": "EN",
          "kind": "TECHNICAL_SPECIFICATION", "ambitionLevel": "CORE", "verification": "A plan.",
          "cpvCodes": ["30213100-6"], "environmentalImpacts": ["CIRC_ECON"]}


def publish_one(token, n):
    created = retrying(lambda: gql(
        "mutation($i: CreateClauseInput!) { createClause(input: $i) { clause { id } } }",
        {"i": {**CLAUSE, "title": f"Burst clause {n}"}}, token))
    clause_id = created["createClause"]["clause"]["id"]

    def publish():
        try:
            gql("mutation($id: ID!) { publishClause(input: { id: $id }) { clause { id } } }",
                {"id": clause_id}, token)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            # The answer was lost: it may have committed. Look before publishing again.
            state = retrying(lambda: gql("query($id: ID!) { clause(id: $id) { version } }",
                                         {"id": clause_id}, token))
            if ((state["clause"] or {}).get("version") or 0) < 1:
                raise
    retrying(publish)
    return clause_id


IMPORT_BATCH = 200


def import_batch(token, numbers):
    """Imports the clauses `numbers` in one request; returns their ids."""
    body = "\n".join(json.dumps({**CLAUSE, "title": f"Burst clause {n}"}) for n in numbers).encode()

    def post():
        req = urllib.request.Request(f"{URL}/import/clauses.ndjson", data=body, headers={
            "content-type": "application/x-ndjson", "authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.load(resp)["ids"]

    def send():
        try:
            return post()
        except urllib.error.HTTPError:
            raise  # refused or busy: nothing was written, so it is simply sent again
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            # The answer was lost: the batch may have committed (all or nothing). Look first.
            titles = {f"Burst clause {n}" for n in numbers}
            found = [c["id"] for c in all_pages(
                "query($after: String) { clauses(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id latest { title } } } } }",
                "clauses") if (c["latest"] or {}).get("title") in titles]
            if len(found) == len(numbers):
                return found
            raise
    return retrying(send)


def all_pages(query, key, variables=None):
    out, after = [], None
    while True:
        data = retrying(lambda: gql(query, {**(variables or {}), "after": after}))[key]
        out += [edge["node"] for edge in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            return out
        after = data["pageInfo"]["endCursor"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clauses", type=int, default=10_000)
    parser.add_argument("--fault", choices=["sigkill", "db-restart", "search-restart", "none"],
                        default="sigkill")
    parser.add_argument("--database-url")
    parser.add_argument("--meili-bin", help="a meilisearch binary (for --fault search-restart)")
    parser.add_argument("--bin", default="target/release/commons")
    parser.add_argument("--via", choices=["graphql", "import"], default="graphql",
                        help="publish one clause per request, or in bulk-import batches")
    args = parser.parse_args()
    if args.fault == "db-restart" and not (args.database_url or "").startswith("postgres"):
        raise SystemExit("--fault db-restart needs --database-url postgres://…")
    if args.fault == "search-restart" and not args.meili_bin:
        raise SystemExit("--fault search-restart needs --meili-bin PATH")

    data_dir = tempfile.mkdtemp(prefix="commons-faults-")
    database_url, name = None, None
    if args.database_url:
        name = f"faults_{int(time.time())}"
        server_url, _ = args.database_url.rsplit("/", 1)
        subprocess.run(["psql", args.database_url, "-qc", f"CREATE DATABASE {name}"], check=True)
        database_url = f"{server_url}/{name}"
    meili = None
    if args.meili_bin:
        meili = Meilisearch(args.meili_bin, data_dir)
        meili.start()
    search_env = meili.env() if meili else {}
    seed = [args.bin, "seed", "--synthetic", "10", "--quiet", "--data-dir", data_dir]
    if database_url:
        seed += ["--database-url", database_url]
    subprocess.run(seed, check=True, stderr=subprocess.DEVNULL, env={**os.environ, **search_env})
    server = Server(args.bin, data_dir, database_url, search_env)
    server.start()
    try:
        org = gql("{ organizations(first: 1) { edges { node { id } } } }")["organizations"]["edges"][0]["node"]["id"]
        token = subprocess.run([args.bin, "token", "--org", org, "--role", "publisher", "--ttl", "2h"],
                               env={**os.environ, "COMMONS_JWT_SECRET": SECRET},
                               capture_output=True, text=True, check=True).stdout.strip()

        published, lock, failures = [], threading.Lock(), []
        numbers = iter(range(args.clauses))

        def take(count):
            return [n for n in (next(numbers, None) for _ in range(count)) if n is not None]

        def send(batch):
            if args.via == "import":
                return import_batch(token, batch)
            return [publish_one(token, n) for n in batch]

        clients, per_request = (2, IMPORT_BATCH) if args.via == "import" else (4, 1)

        def worker():
            while True:
                with lock:
                    batch = take(per_request)
                if not batch:
                    return
                try:
                    ids = send(batch)
                except Exception as error:  # noqa: BLE001 - reported below
                    failures.append(f"clauses {batch[0]}-{batch[-1]}: {error}")
                    continue
                with lock:
                    published.extend(ids)

        started = time.time()
        threads = [threading.Thread(target=worker) for _ in range(clients)]
        for thread in threads:
            thread.start()
        faults = []
        for share in (0.3, 0.6) if args.fault != "none" else ():
            while len(published) < args.clauses * share and any(t.is_alive() for t in threads):
                time.sleep(0.05)
            at = len(published)
            if args.fault == "sigkill":
                server.kill()
                time.sleep(1)
                server.start()
            elif args.fault == "search-restart":
                meili.stop()
                time.sleep(5)
                meili.start()
            else:
                cluster = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True).stdout.split()[0]
                subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True)
            faults.append({"after_published": at})
        for thread in threads:
            thread.join()
        burst_s = time.time() - started

        # Recovery: the index catches up with the database.
        db_ids = {c["id"] for c in all_pages(
            "query($after: String) { clauses(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } }",
            "clauses")}
        deadline, index_ids = time.time() + 120, set()
        while time.time() < deadline:
            index_ids = {hit["clause"]["id"] for hit in all_pages(
                "query($after: String) { searchClauses(query: \"\", first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { clause { id } } } } }",
                "searchClauses")}
            if index_ids == db_ids:
                break
            time.sleep(0.5)
        recovered_s = time.time() - started - burst_s
        events = all_pages(
            "query($after: String) { changes(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { entityType entityId version operation } } } }",
            "changes")
        upserts = {}
        for event in events:
            if event["entityType"] == "CLAUSE" and event["operation"] == "UPSERT":
                key = (event["entityId"], event["version"])
                upserts[key] = upserts.get(key, 0) + 1
        doubled = sum(1 for count in upserts.values() if count > 1)
        missing = len({(i, 1) for i in db_ids} - set(upserts))
        outcome = {
            "fault": args.fault,
            "database": "postgresql" if database_url else "sqlite",
            "search": "meilisearch" if meili else "tantivy",
            "via": args.via,
            "clauses": args.clauses,
            "faults": faults,
            "client_failures": len(failures),
            "published_seen_by_clients": len(published),
            "published_in_database": len(db_ids),
            "in_index": len(index_ids),
            "index_equals_database": index_ids == db_ids,
            "clients_published_all_there": set(published) <= db_ids,
            "events_doubled": doubled,
            "events_missing": missing,
            "burst_s": round(burst_s, 1),
            "published_per_s": round(len(published) / burst_s, 1),
            "index_caught_up_after_s": round(recovered_s, 1),
        }
        print(json.dumps(outcome))
        ok = (outcome["index_equals_database"] and outcome["clients_published_all_there"]
              and not doubled and not missing and not failures)
        if failures:
            print("\n".join(failures[:5]), file=sys.stderr)
        sys.exit(0 if ok else 1)
    finally:
        server.stop()
        if meili:
            meili.stop()
        if name:
            subprocess.run(["psql", args.database_url, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])


if __name__ == "__main__":
    main()
