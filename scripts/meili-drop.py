#!/usr/bin/env python3
"""Deletes Meilisearch indexes and waits until Meilisearch has deleted them.

Usage: scripts/meili-drop.py URL KEY UID...   (KEY may be empty; a missing index is skipped)
"""
import json
import sys
import time
import urllib.error
import urllib.request

url, key, uids = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3:]


def call(method, path):
    request = urllib.request.Request(url + path, method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    return json.load(urllib.request.urlopen(request))


for uid in uids:
    try:
        task = call("DELETE", f"/indexes/{uid}")["taskUid"]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            continue
        raise
    while call("GET", f"/tasks/{task}")["status"] in ("enqueued", "processing"):
        time.sleep(0.05)
