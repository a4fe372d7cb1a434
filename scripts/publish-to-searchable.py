#!/usr/bin/env python3
"""Measures publish-to-searchable latency against a running server.

Usage: publish-to-searchable.py URL PUBLISHER_TOKEN [COUNT]

For each round it creates a clause holding a random 14-letter word, publishes it, then polls
searchClauses for that word until it is found; the time from sending the publish to the first
successful search is one sample. Prints p50, p90, p99 and max in milliseconds.
"""
import json
import random
import string
import sys
import time
import urllib.request


def gql(url, query, variables, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    body = json.dumps({"query": query, "variables": variables}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers)) as r:
        data = json.load(r)
    if data.get("errors"):
        raise SystemExit(f"GraphQL errors: {data['errors']}")
    return data["data"]


def main():
    url, token = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    samples = []
    for _ in range(rounds):
        word = "".join(random.choice(string.ascii_lowercase) for _ in range(14))
        clause = {
            "title": f"Clause {word}", "text": f"Text with {word}.", "language": "EN",
            "kind": "TECHNICAL_SPECIFICATION", "ambitionLevel": "CORE", "verification": "Proof",
            "cpvCodes": ["30213100-6"], "environmentalImpacts": ["CIRC_ECON"],
        }
        created = gql(url, "mutation($i: CreateClauseInput!) { createClause(input: $i) { clause { id } } }", {"i": clause}, token)
        clause_id = created["createClause"]["clause"]["id"]
        started = time.perf_counter()
        gql(url, "mutation($id: ID!) { publishClause(input: { id: $id }) { clause { id } } }", {"id": clause_id}, token)
        while gql(url, "query($q: String!) { searchClauses(query: $q) { totalCount } }", {"q": word})["searchClauses"]["totalCount"] < 1:
            pass
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    at = lambda q: samples[min(len(samples) - 1, int(len(samples) * q))]
    print(f"publish-to-searchable over {len(samples)} clauses: p50 {at(0.5):.1f} ms, "
          f"p90 {at(0.9):.1f} ms, p99 {at(0.99):.1f} ms, max {samples[-1]:.1f} ms")


if __name__ == "__main__":
    main()
