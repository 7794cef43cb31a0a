#!/usr/bin/env python3
"""The baseline the check throughput is compared with: the mobilityhouse `ocpp` Python library
validating the same frames (record parse, frame unpack, payload against its JSON schema).

    python3 -m venv /tmp/ocppvenv && /tmp/ocppvenv/bin/pip install ocpp
    BENCH_KEEP=/tmp/mixed.jsonl cargo bench --bench check_throughput
    /tmp/ocppvenv/bin/python benches/python_baseline.py /tmp/mixed.jsonl [MAX_FRAMES]

Prints frames per second on one core. A benchmark: it asserts nothing.
"""

import json
import sys
import time

import ocpp.messages as m


def main() -> None:
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    versions = {}
    pending = {}
    frames = invalid = 0
    start = time.perf_counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            conn = rec["conn"]
            if rec.get("event") == "open":
                versions[conn] = rec["subprotocol"].removeprefix("ocpp")
                continue
            text = rec.get("text")
            if text is None:
                continue
            frames += 1
            try:
                msg = m.unpack(text)
                if isinstance(msg, m.Call):
                    pending[(conn, msg.unique_id)] = msg.action
                    m._validate_payload(msg, versions[conn])
                elif isinstance(msg, m.CallResult):
                    msg.action = pending.pop((conn, msg.unique_id), None)
                    if msg.action is not None:
                        m._validate_payload(msg, versions[conn])
            except Exception:  # a finding for the library, not a failure of the baseline
                invalid += 1
            if frames >= limit:
                break
    t = time.perf_counter() - start
    print(f"mobilityhouse ocpp {getattr(m, '__version__', '')}: {frames} frames in {t:.2f} s "
          f"= {frames / t:,.0f} frames/s on 1 core ({invalid} rejected)")


if __name__ == "__main__":
    main()
