#!/usr/bin/env python3
"""Officer web app figures against a running server with the demo catalogue.

    scripts/web-bench.py http://127.0.0.1:8080 [--json results.jsonl]

1. First load of the search page: the bytes on the wire (gzip, as a browser asks) of the page's
   HTML, style sheet, script and icon, summed.
2. Search-as-you-type: every prefix (2+ characters) of officer words in five languages, sent
   as the page's script sends them (`/{lang}/?q=…&partial=1`), one after another on one
   keep-alive connection, as one user typing; latency percentiles over all of them, after one
   warm-up pass.
"""
import argparse
import gzip
import http.client
import json
import re
import statistics
import sys
import time
import urllib.parse

WORDS = {
    "sv": ["återtagande", "energiförbrukning", "barnarbete", "reservdelar", "kemikalier"],
    "nb": ["tilbaketaking", "energibruk", "menneskerettigheter", "reparasjon", "emballasje"],
    "da": ["tilbagetagning", "energiforbrug", "arbejdsvilkår", "reservedele", "miljømærke"],
    "fi": ["takaisinotto", "energiankulutus", "ihmisoikeudet", "varaosat", "kemikaalit"],
    "en": ["take-back", "energy consumption", "child labour", "spare parts", "refurbished"],
}


def fetch(conn, path, gzip=True):
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        sys.exit(f"{path}: HTTP {response.status}")
    return body, response.getheader("Content-Encoding"), elapsed


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--json")
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)

    page, encoding, _ = fetch(conn, "/sv/")
    # Counted as sent (compressed); read as the browser reads it.
    html = gzip.decompress(page) if encoding == "gzip" else page
    assets = re.findall(rb'(?:href|src)="(/assets/[^"]+)"', html)
    total = len(page)
    parts = [f"HTML {len(page)} B ({encoding or 'identity'})"]
    for asset in dict.fromkeys(assets):
        body, encoding, _ = fetch(conn, asset.decode())
        total += len(body)
        parts.append(f"{asset.decode().split('?')[0]} {len(body)} B ({encoding or 'identity'})")
    print(f"search page, first load: {total} B on the wire ({'; '.join(parts)})")

    paths = []
    for lang, words in WORDS.items():
        for word in words:
            for end in range(2, len(word) + 1):
                query = urllib.parse.quote(word[:end])
                paths.append(f"/{lang}/?q={query}&partial=1")
    for path in paths:
        fetch(conn, path)
    latencies = [fetch(conn, path)[2] * 1000 for path in paths]
    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    print(
        f"search-as-you-type: {len(latencies)} keystrokes, p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {max(latencies):.1f} ms, "
        f"mean {statistics.mean(latencies):.1f} ms"
    )
    if args.json:
        with open(args.json, "a", encoding="utf-8") as out:
            out.write(json.dumps({
                "name": "web app",
                "first_load_bytes": total,
                "typing_requests": len(latencies),
                "typing_p50_ms": round(p50, 2),
                "typing_p95_ms": round(p95, 2),
                "typing_p99_ms": round(p99, 2),
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }) + "\n")


if __name__ == "__main__":
    main()
