#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png, the pictures of the web app in README.md: starts the
# server on the demo catalogue in a temporary folder, signs a publisher token for one of its
# organisations, and walks the browser journeys of tests/browser/journeys.mjs with
# --screenshots in Debian's Chromium.
#
#   scripts/screenshots.sh            (PROFILE=debug|release, PORT=18090, CHROMIUM=path)
#
# Needs chromium, Node.js and `npm ci --prefix tests/browser` (as .ci/run prepares them).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-release}
PORT=${PORT:-18090}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || { echo "chromium is not installed" >&2; exit 1; }
[ -d tests/browser/node_modules/playwright-core ] \
  || { echo "run: npm ci --prefix tests/browser" >&2; exit 1; }

flag=()
[ "$PROFILE" = release ] && flag=(--release)
cargo build "${flag[@]}" --locked -q -p commons-api
BIN=target/$PROFILE/commons
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

base="http://127.0.0.1:$PORT"
"$BIN" serve --demo true --data-dir "$work/data" --listen "127.0.0.1:$PORT" 2>"$work/server.log" &
server=$!
for _ in $(seq 1 300); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$base/healthz" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

# A publisher of the first demo organisation, signed with the server's default development
# secret (the server and `commons token` read the same settings).
org=$(curl -fsS "$base/graphql" -H 'Content-Type: application/json' \
  -d '{"query":"{ organizations(first: 1) { nodes { id } } }"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["organizations"]["nodes"][0]["id"])')
token=$("$BIN" token --org "$org" --role publisher)

CHROMIUM="$CHROMIUM" PUBLISHER_TOKEN="$token" node tests/browser/journeys.mjs "$base" --screenshots
ls -l docs/screenshots
