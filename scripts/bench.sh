#!/usr/bin/env bash
# Side-by-side benchmarks for BENCHMARKS.md, in one run on this machine.
#
#   scripts/bench.sh [CLAUSES] [DURATION]      (defaults: 100000 clauses, 20s per row)
#
# Builds release binaries, seeds a synthetic catalogue, copies its search index (a running
# server holds the index lock), starts the server, then measures with commons-load:
# GraphQL searchClauses against the same searches sent straight to tantivy in-process,
# saturated (closed loop) and at a fixed rate; { __typename } against GET /healthz (a plain
# axum JSON handler); publish-to-searchable latency; and the mirror's full and incremental
# sync; bulk import and index end to end against raw ingestion of the same documents.
# SECTIONS picks groups ("search floor publish mirror bulk"); BULK is the bulk row's size. Results are appended as JSON lines to $OUT (default bench-results.jsonl) and printed.
# CI runs it with a tiny catalogue and duration only to keep it working.
set -euo pipefail
cd "$(dirname "$0")/.."

CLAUSES=${1:-100000}
DURATION=${2:-20s}
WARMUP=${WARMUP:-3s}
OUT=${OUT:-bench-results.jsonl}
PORT=${PORT:-18080}
# Which groups of rows to run.
SECTIONS=${SECTIONS:-search floor publish mirror bulk}
PROFILE=${PROFILE:-release}

if [ "$PROFILE" = release ]; then
  cargo build --release --locked -q -p commons-api -p commons-load
else
  cargo build --locked -q -p commons-api -p commons-load
fi
BIN=target/$PROFILE/commons
LOAD=target/$PROFILE/commons-load
work=$(mktemp -d)
server=""
bulk_server=""
cleanup() {
  for pid in $server $bulk_server; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*" >&2; }
since() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$1"; }
now() { python3 -c 'import time; print(time.time())'; }
wait_up() { for _ in $(seq 1 300); do curl -fsS "$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "server at $1 did not start" >&2; exit 1; }
load() { "$LOAD" "$@" --duration "$DURATION" --warmup "$WARMUP" --json "$OUT"; }

say "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%F)"
say "seeding $CLAUSES synthetic clauses"
start=$(now)
"$BIN" seed --synthetic "$CLAUSES" --data-dir "$work/data" --quiet
echo "seed + index: $(since "$start") s" >&2
cp -r "$work/data/index/clauses" "$work/raw-index"

COMMONS_JWT_SECRET=bench-secret "$BIN" serve --no-demo --data-dir "$work/data" \
  --listen "127.0.0.1:$PORT" --max-page-size 100 2>"$work/server.log" &
server=$!
URL="http://127.0.0.1:$PORT"
wait_up "$URL"

section() { case " $SECTIONS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if section search; then
say "search, saturated (closed loop, 8 workers)"
load search --url "$URL/graphql" --concurrency 8 --name "graphql search, closed"
load raw-tantivy --index "$work/raw-index" --concurrency 8 --name "raw tantivy, closed"
say "search at a fixed rate (no coordinated omission)"
RATE=${RATE:-100}
load search --url "$URL/graphql" --rate "$RATE" --name "graphql search, fixed"
load raw-tantivy --index "$work/raw-index" --rate "$RATE" --name "raw tantivy, fixed"
fi
if section floor; then
say "GraphQL floor"
load typename --url "$URL/graphql" --concurrency 8 --name "graphql __typename, closed"
load get --url "$URL/healthz" --concurrency 8 --name "axum GET /healthz, closed"
fi

if section publish || section mirror; then
org=$(curl -fsS "$URL/graphql" -H 'content-type: application/json' \
  -d '{"query":"{ organizations(first: 1) { edges { node { id } } } }"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["organizations"]["edges"][0]["node"]["id"])')
token=$(COMMONS_JWT_SECRET=bench-secret "$BIN" token --org "$org" --role publisher 2>/dev/null)
fi
if section publish; then
say "publish-to-searchable"
python3 scripts/publish-to-searchable.py "$URL/graphql" "$token" "${PUBLISHES:-100}"
fi

if section mirror; then
say "mirror: full sync of the catalogue, then incremental"
start=$(now)
"$BIN" mirror --from "$URL" --data-dir "$work/mirror" --quiet
echo "mirror full sync of $CLAUSES clauses: $(since "$start") s" >&2
start=$(now)
curl -fsS -o "$work/catalogue.ndjson" "$URL/export/catalogue.ndjson"
echo "snapshot download alone: $(since "$start") s, $(du -h "$work/catalogue.ndjson" | cut -f1)" >&2
for changes in ${INCREMENTS:-1 100 10000}; do
  # The changes are published through the import endpoint (one event per clause).
  "$BIN" seed --synthetic "$changes" --seed "$changes" --import-file "$work/increment.ndjson" --quiet
  "$BIN" import "$work/increment.ndjson" --to "$URL" --token "$token" --quiet
  start=$(now)
  "$BIN" mirror --from "$URL" --data-dir "$work/mirror" --quiet
  echo "mirror incremental sync of $changes changes over $CLAUSES clauses: $(since "$start") s" >&2
done
fi

if section bulk; then
BULK=${BULK:-20000}
say "bulk publish and index end to end ($BULK clauses), against raw ingestion of the same documents"
"$BIN" seed --synthetic "$BULK" --seed 7 --import-file "$work/bulk.ndjson" --quiet
BULK_URL="http://127.0.0.1:$((PORT + 1))"
COMMONS_JWT_SECRET=bench-secret "$BIN" serve --no-demo --data-dir "$work/bulk" \
  --listen "127.0.0.1:$((PORT + 1))" 2>"$work/bulk-server.log" &
bulk_server=$!
wait_up "$BULK_URL"
admin=$(COMMONS_JWT_SECRET=bench-secret "$BIN" token --role admin 2>/dev/null)
bulk_org=$(curl -fsS "$BULK_URL/graphql" -H 'content-type: application/json' -H "Authorization: Bearer $admin" \
  -d '{"query":"mutation { createOrganization(input: { slug: \"bulk\", name: \"Bulk kommun\", kind: MUNICIPALITY, country: SE, population: 50000 }) { organization { id } } }"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createOrganization"]["organization"]["id"])')
bulk_token=$(COMMONS_JWT_SECRET=bench-secret "$BIN" token --org "$bulk_org" --role publisher 2>/dev/null)
start=$(now)
"$BIN" import "$work/bulk.ndjson" --to "$BULK_URL" --token "$bulk_token" --quiet
imported=$(since "$start")
python3 - "$BULK_URL/graphql" "$BULK" <<'PY'
import json, sys, time, urllib.request
url, want = sys.argv[1], int(sys.argv[2])
body = json.dumps({"query": "{ searchClauses(query: \"\") { totalCount } }"}).encode()
deadline = time.time() + 600
while time.time() < deadline:
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    if json.load(urllib.request.urlopen(req))["data"]["searchClauses"]["totalCount"] >= want:
        sys.exit(0)
    time.sleep(0.02)
sys.exit("the index never caught up")
PY
total=$(since "$start")
python3 -c "import sys; n, a, t = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); print(f'bulk import end to end: {n} clauses imported in {a:.2f} s, all searchable after {t:.2f} s = {n / t:.0f} clauses/s')" "$BULK" "$imported" "$total" >&2
echo "{\"name\": \"bulk import end to end\", \"clauses\": $BULK, \"imported_seconds\": $imported, \"searchable_seconds\": $total}" >>"$OUT"
kill "$bulk_server"; wait "$bulk_server" 2>/dev/null || true; bulk_server=""
"$LOAD" raw-ingest --data-dir "$work/bulk" --index "$work/raw-bulk-index" --json "$OUT"
fi
say "results appended to $OUT"
