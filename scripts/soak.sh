#!/usr/bin/env bash
# Soak: searches at a fixed rate for a long time; reports errors, latencies and how the
# server's memory grew.
#
#   scripts/soak.sh [CLAUSES] [RATE] [DURATION]     (defaults: 10000 clauses, 80 req/s, 10m)
#
# Pick RATE at about 80 % of the saturated throughput that scripts/bench.sh measured for the
# same catalogue size.
#
# With MEILI_URL (and MEILI_MASTER_KEY) pointing at a Meilisearch server, the server searches
# Meilisearch instead of its embedded index: the seed indexes the catalogue into a fresh index
# soak_<time> there, and that index is deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
CLAUSES=${1:-10000}
RATE=${2:-80}
DURATION=${3:-10m}
PORT=${PORT:-18095}
OUT=${OUT:-bench-results.jsonl}
cargo build --release --locked -q -p commons-api -p commons-load
work=$(mktemp -d)
server=""
sampler=""
cleanup() { [ -n "$sampler" ] && kill "$sampler" 2>/dev/null; [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
meili_index=""
if [ -n "${MEILI_URL:-}" ]; then
  meili_index="soak_$(date +%s)"
  export MEILI_INDEX="$meili_index" MEILI_TEMPLATE_INDEX="${meili_index}_templates"
fi
meili_delete() {
  [ -z "$meili_index" ] || scripts/meili-drop.py "$MEILI_URL" "${MEILI_MASTER_KEY:-}" "$meili_index" "${meili_index}_templates" || true
}
trap 'cleanup; meili_delete' EXIT

target/release/commons seed --synthetic "$CLAUSES" --data-dir "$work/data" --quiet
target/release/commons serve --no-demo --data-dir "$work/data" --listen "127.0.0.1:$PORT" 2>"$work/server.log" &
server=$!
for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# VmRSS counts mapped file pages (the search index) as well as the server's own memory, which
# is RssAnon; both are reported.
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
anon() { awk '/RssAnon/ {print $2}' "/proc/$server/status"; }
( while sleep 10; do echo "$(date +%s) $(rss) $(anon)"; done ) >"$work/rss" &
sampler=$!
before=$(rss)
before_anon=$(anon)
target/release/commons-load search --url "http://127.0.0.1:$PORT/graphql" --rate "$RATE" \
  --duration "$DURATION" --warmup 10s --name "soak $CLAUSES clauses${meili_index:+ (meilisearch)}" --json "$OUT"
after=$(rss)
after_anon=$(anon)
peak=$(awk '{print $2}' "$work/rss" | sort -n | tail -1)
peak_anon=$(awk '{print $3}' "$work/rss" | sort -n | tail -1)
first_minute=$(awk 'NR==6 {print $2}' "$work/rss")
first_minute_anon=$(awk 'NR==6 {print $3}' "$work/rss")
echo "server RSS: before load ${before} KiB, after 1 min ${first_minute:-?} KiB, peak ${peak} KiB, at the end ${after} KiB"
echo "of it the server's own (RssAnon): before ${before_anon} KiB, after 1 min ${first_minute_anon:-?} KiB, peak ${peak_anon} KiB, at the end ${after_anon} KiB"
