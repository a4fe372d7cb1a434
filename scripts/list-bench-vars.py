#!/usr/bin/env python3
"""Variables for the list benchmark rows of scripts/bench.sh.

    list-bench-vars.py DATABASE_URL OUT_DIR [POSTGRAPHILE_GRAPHQL_URL]

Reads the published clauses of a seeded PostgreSQL database with psql and writes, into
OUT_DIR, one JSON object per line:

- ids.jsonl: 1,000 published clause ids in a fixed shuffled order (the by-id rows);
- commons-deep.jsonl: the `after` cursor of this API that starts the page after the
  50,000th published clause (or after the middle one in a smaller catalogue);
- commons-spread.jsonl: cursors after up to 100,000 published clauses drawn at random, so
  that almost every request of a row asks for a page not asked for before (the server keeps
  pages it has read; this row shows what a page costs when it is not kept);
- postgraphile-deep.jsonl: PostGraphile's cursor for the same row, asked of PostGraphile
  itself (its cursors are its own), when its URL is given.
"""

import base64
import json
import random
import subprocess
import sys
import urllib.request


def psql(url: str, sql: str) -> list[str]:
    out = subprocess.run(
        ["psql", url, "-Atq", "-c", sql], check=True, capture_output=True, text=True
    ).stdout
    return [line for line in out.splitlines() if line]


def cursor_after(clause_id: str) -> str:
    """This API's cursor (id order) for the page after the clause `clause_id`."""
    return base64.urlsafe_b64encode(f"k1:{clause_id}".encode()).decode().rstrip("=")


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    url, out = sys.argv[1], sys.argv[2]
    postgraphile = sys.argv[3] if len(sys.argv) == 4 else None

    total = int(psql(url, "SELECT count(*) FROM clause WHERE status = 'published'")[0])
    if total < 2:
        sys.exit("the database holds fewer than two published clauses")
    depth = min(50_000, total // 2)

    ids = psql(url, "SELECT id FROM clause WHERE status = 'published' ORDER BY id LIMIT 5000")
    random.Random(1).shuffle(ids)
    with open(f"{out}/ids.jsonl", "w") as f:
        for clause_id in ids[:1000]:
            f.write(json.dumps({"id": clause_id}) + "\n")

    spread = psql(
        url,
        "SELECT id FROM clause WHERE status = 'published' ORDER BY md5(id::text) LIMIT 100000",
    )
    with open(f"{out}/commons-spread.jsonl", "w") as f:
        for clause_id in spread:
            f.write(json.dumps({"after": cursor_after(clause_id)}) + "\n")

    (after,) = psql(
        url,
        f"SELECT id FROM clause WHERE status = 'published' ORDER BY id OFFSET {depth - 1} LIMIT 1",
    )
    with open(f"{out}/commons-deep.jsonl", "w") as f:
        f.write(json.dumps({"after": cursor_after(after)}) + "\n")

    if postgraphile:
        query = (
            "query($offset: Int!) { allClauses(first: 1, offset: $offset, "
            'orderBy: PRIMARY_KEY_ASC, condition: { status: "published" }) '
            "{ edges { cursor node { rowId } } } }"
        )
        body = json.dumps({"query": query, "variables": {"offset": depth - 1}}).encode()
        request = urllib.request.Request(
            postgraphile, data=body, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = json.load(response)
        edge = answer["data"]["allClauses"]["edges"][0]
        if edge["node"]["rowId"] != after:
            sys.exit(f"PostGraphile's row {depth} is {edge['node']['rowId']}, not {after}")
        with open(f"{out}/postgraphile-deep.jsonl", "w") as f:
            f.write(json.dumps({"after": edge["cursor"]}) + "\n")
    print(f"{total} published clauses; deep pages start after row {depth}", file=sys.stderr)


if __name__ == "__main__":
    main()
