#!/usr/bin/env bash
# One bulk import into a fresh server (release build), timed until searchClauses counts every
# clause, with the server's CPU time read from /proc around it. With `perf` as the argument the
# server is also profiled (perf record, DWARF call graphs) into $WORK/perf.data.
#   cargo build --release -p commons-api && scripts/bulk-cpu.sh [perf]
# CLAUSES (default 20000) sets the import's size, WORK (default a new temporary directory)
# where the data, the import file and the profile go.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/commons
CLAUSES=${CLAUSES:-20000}
WORK=${WORK:-$(mktemp -d)}
W=$WORK/w; rm -rf "$W"; mkdir -p "$W"
[ -f "$WORK/bulk.ndjson" ] || $BIN seed --synthetic "$CLAUSES" --seed 7 --import-file "$WORK/bulk.ndjson" --quiet
PORT=18200; URL=http://127.0.0.1:$PORT
COMMONS_JWT_SECRET=bench-secret $BIN serve --no-demo --data-dir $W/data --listen 127.0.0.1:$PORT 2>$W/server.log &
S=$!
trap 'kill $S 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -fsS $URL/healthz >/dev/null 2>&1 && break; sleep 0.1; done
admin=$(COMMONS_JWT_SECRET=bench-secret $BIN token --role admin 2>/dev/null)
org=$(curl -fsS "$URL/graphql" -H 'content-type: application/json' -H "Authorization: Bearer $admin" \
  -d '{"query":"mutation { createOrganization(input: { slug: \"bulk\", name: \"Bulk kommun\", kind: MUNICIPALITY, country: SE, population: 50000 }) { organization { id } } }"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createOrganization"]["organization"]["id"])')
token=$(COMMONS_JWT_SECRET=bench-secret $BIN token --org "$org" --role publisher 2>/dev/null)
cpu() { awk '{print ($14+$15)/100}' /proc/$S/stat; }
if [ "${1:-}" = perf ]; then perf record -F 499 -g --call-graph dwarf,16384 -p $S -o "$WORK/perf.data" 2>/dev/null & P=$!; sleep 1; fi
c0=$(cpu); t0=$(date +%s.%N)
$BIN import "$WORK/bulk.ndjson" --to $URL --token "$token" --quiet
t1=$(date +%s.%N); c1=$(cpu)
python3 - "$URL/graphql" "$CLAUSES" <<'PY'
import json, sys, time, urllib.request
url, want = sys.argv[1], int(sys.argv[2])
body = json.dumps({"query": "{ searchClauses(query: \"\") { totalCount } }"}).encode()
deadline = time.time() + 600
while True:
    if time.time() > deadline:
        sys.exit("the index never caught up")
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    if json.load(urllib.request.urlopen(req))["data"]["searchClauses"]["totalCount"] >= want: break
    time.sleep(0.02)
PY
t2=$(date +%s.%N); c2=$(cpu)
[ "${1:-}" = perf ] && { kill -INT $P; wait $P || true; }
python3 -c "import sys; t0,t1,t2,c0,c1,c2=map(float,sys.argv[1:7]); n=int(sys.argv[7]); print(f'requests done {t1-t0:.2f} s, searchable {t2-t0:.2f} s ({n/(t2-t0):.0f} clauses/s); server CPU {c1-c0:.2f} s during the requests, {c2-c0:.2f} s in all')" $t0 $t1 $t2 $c0 $c1 $c2 "$CLAUSES"
echo "raw ingestion of the same documents: target/release/commons-load raw-ingest --data-dir $W/data --index $WORK/raw-index" >&2
kill $S; wait $S 2>/dev/null || true
