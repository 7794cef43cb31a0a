#!/usr/bin/env python3
"""Checks what run-example.sh left in OUT: stickiness, the rolling restart, every frame recorded.
Usage: verify.py OUT CHARGERS. Prints the figures; exits 1 when a check fails."""
import collections
import glob
import json
import os
import sys

out, chargers = sys.argv[1], int(sys.argv[2])
drain_at = open(os.path.join(out, "drain-at")).read().strip()


def records(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def norm(ts):
    # Recordings write microseconds with Z; so does drain-at.
    return ts


ok = True
proxies = sorted(glob.glob(os.path.join(out, "proxy-*.jsonl")))
opens = collections.defaultdict(list)  # conn -> [(ts, instance)]
drained = []  # (conn, ts) closed with 1001 by proxy-2 while draining
recorded = collections.Counter()  # (conn, from, text)
for p in proxies:
    for r in records(p):
        if r.get("event") == "open":
            opens[r["conn"]].append((r["ts"], r.get("instance", "?")))
        elif r.get("event") == "close":
            if os.path.basename(p) == "proxy-2.jsonl" and r["ts"] >= drain_at and r.get("code") == 1001:
                drained.append((r["conn"], r["ts"]))
        elif "text" in r:
            recorded[(r["conn"], r["from"], r["text"])] += 1

# 1. Stickiness before the drain: each station on one instance, over all its connections.
before = {c: [i for t, i in v if t < drain_at] for c, v in opens.items()}
moved = {c: sorted(set(v)) for c, v in before.items() if len(set(v)) > 1}
reconnected = sum(1 for v in before.values() if len(v) >= 2)
per_instance = collections.Counter(v[0] for v in before.values() if v)
print(f"stations seen: {len(before)} of {chargers}; by proxy: {dict(sorted(per_instance.items()))}")
print(f"stickiness: {reconnected} stations reconnected before the restart, "
      f"{len(moved)} of them changed proxy")
if len(before) != chargers or moved or reconnected == 0:
    ok = False
    print(f"FAIL stickiness: moved {list(moved.items())[:5]}")

# 2. The rolling restart: every station proxy-2 closed while draining came back.
back = 0
for conn, ts in drained:
    if any(t > ts for t, _ in opens[conn]):
        back += 1
print(f"rolling restart: proxy-2 closed {len(drained)} stations with 1001 while draining; "
      f"{back} reconnected through the other proxies")
if not drained or back != len(drained):
    ok = False
    print("FAIL rolling restart")

# 3. Every frame: what the chargers received was recorded by a proxy first, and what the
#    proxies recorded from chargers is what the chargers sent.
sent = collections.Counter()
received = collections.Counter()
for p in glob.glob(os.path.join(out, "chargers-*.jsonl")):
    for r in records(p):
        if "text" in r:
            key = (r["conn"], r["from"], r["text"])
            (sent if r["from"] == "charger" else received)[key] += 1
missing_in = received - recorded
unsent = collections.Counter({k: v for k, v in recorded.items() if k[1] == "charger"}) - sent
in_flight = collections.Counter({k: v for k, v in sent.items()}) - recorded
print(f"frames: chargers sent {sum(sent.values())} and received {sum(received.values())}; "
      f"the proxies recorded {sum(recorded.values())}")
print(f"frames received by a charger but not recorded: {sum(missing_in.values())}; "
      f"recorded from a charger but never sent: {sum(unsent.values())}; "
      f"sent by a charger as its connection closed, never read by a proxy: {sum(in_flight.values())}")
if missing_in or unsent:
    ok = False
    print("FAIL frames")
print("ALL CHECKS PASSED" if ok else "SOME CHECKS FAILED")
sys.exit(0 if ok else 1)
