#!/usr/bin/env python3
"""Peak memory of `ocpp-inspector check` on big traces (issue #15 item 5).

Generates, and streams into `check` through its standard input (`check /dev/stdin`: no disk
needed for the trace, nothing is kept or committed):
  1. a trace of about TRACE_MB (default 1024) MB from 500 stations (1.6 and 2.0.1 sessions:
     boot, heartbeats, status, meter values, transactions; one fault every ~5,000 frames);
  2. a trace with FINDINGS (default 1,000,000) findings: unreadable frames spread over 500
     stations.
Runs the release binary on each, with every report at once (text, --json, --sarif, --junit,
--html, --gitlab, all to /dev/null: a million findings make gigabytes of reports), and prints
the peak resident set size (wait4 of the child), the wall time and the trace size. The
findings spill to the temporary folder (about 300 bytes each).

Usage: cargo build --release && python3 benches/check_memory.py
Environment: TRACE_MB, FINDINGS, STATIONS (500), JOBS (0 = every core), BIN (the binary).
"""

import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", os.path.join(ROOT, "target", "release", "ocpp-inspector"))
TRACE_MB = int(os.environ.get("TRACE_MB", "1024"))
FINDINGS = int(os.environ.get("FINDINGS", "1000000"))
STATIONS = int(os.environ.get("STATIONS", "500"))
JOBS = os.environ.get("JOBS", "0")


def ts(us):
    s, frac = divmod(us, 1_000_000)
    t = time.gmtime(1_795_000_000 + s)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (frac // 1000)


def q(text):
    """A frame as the trace's JSON string value."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def frame(out, at, conn, side, text):
    out.write('{"ts":"%s","conn":"%s","from":"%s","text":"%s"}\n' % (ts(at), conn, side, q(text)))


def big_trace(out, target_bytes, stations):
    rnd = random.Random(7)
    conns = ["CP-%04d" % i for i in range(stations)]
    v16 = {c: i % 5 < 3 for i, c in enumerate(conns)}
    seq = {c: 0 for c in conns}
    at = 0
    frames = 0
    if True:
        for c in conns:
            sub = "ocpp1.6" if v16[c] else "ocpp2.0.1"
            out.write('{"ts":"%s","conn":"%s","event":"open","subprotocol":"%s"}\n' % (ts(at), c, sub))
            seq[c] += 1
            uid = "b%d" % seq[c]
            if v16[c]:
                frame(out, at + 1000, c, "charger",
                      '[2,"%s","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"X1","firmwareVersion":"1.2.3"}]' % uid)
            else:
                frame(out, at + 1000, c, "charger",
                      '[2,"%s","BootNotification",{"reason":"PowerUp","chargingStation":{"vendorName":"VendorY","model":"M2"}}]' % uid)
            frame(out, at + 2000, c, "csms",
                  '[3,"%s",{"status":"Accepted","currentTime":"%s","interval":300}]' % (uid, ts(at + 2000)))
            at += 3000
        while out.tell() < target_bytes:
            c = conns[rnd.randrange(stations)]
            seq[c] += 1
            uid = "m%d" % seq[c]
            at += rnd.randrange(200, 2000)
            kind = rnd.randrange(10)
            if frames % 5000 == 4999:
                # A planted fault: a schema violation.
                frame(out, at, c, "charger", '[2,"%s","Heartbeat",{"unexpected":1}]' % uid)
                frame(out, at + 50, c, "csms", '[3,"%s",{"currentTime":"%s"}]' % (uid, ts(at + 50)))
            elif kind < 3:
                frame(out, at, c, "charger", '[2,"%s","Heartbeat",{}]' % uid)
                frame(out, at + 50, c, "csms", '[3,"%s",{"currentTime":"%s"}]' % (uid, ts(at + 50)))
            elif v16[c]:
                frame(out, at, c, "charger",
                      '[2,"%s","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"%s","sampledValue":[{"value":"%d","measurand":"Energy.Active.Import.Register","unit":"Wh"},{"value":"%d.5","measurand":"Power.Active.Import","unit":"W"}]}]}]'
                      % (uid, ts(at), seq[c] * 10, rnd.randrange(1000, 11000)))
                frame(out, at + 40, c, "csms", '[3,"%s",{}]' % uid)
            else:
                frame(out, at, c, "charger",
                      '[2,"%s","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"%s","sampledValue":[{"value":%d,"measurand":"Energy.Active.Import.Register"},{"value":%d.5,"measurand":"Power.Active.Import"}]}]}]'
                      % (uid, ts(at), seq[c] * 10, rnd.randrange(1000, 11000)))
                frame(out, at + 40, c, "csms", '[3,"%s",{}]' % uid)
            frames += 2
    return frames


def findings_trace(out, findings, stations):
    conns = ["CP-%04d" % i for i in range(stations)]
    if True:
        for c in conns:
            out.write('{"ts":"%s","conn":"%s","event":"open","subprotocol":"ocpp1.6"}\n' % (ts(0), c))
        for i in range(findings):
            c = conns[i % stations]
            # Not JSON: one finding each (rpc.not-json).
            frame(out, 1000 + i * 10, c, "charger", '[2,"x%d","Heartbeat",{' % i)


class Counting:
    """A writer that counts what goes through it."""

    def __init__(self, f):
        self.f = f
        self.n = 0

    def write(self, s):
        b = s.encode()
        self.n += len(b)
        self.f.write(b)

    def tell(self):
        return self.n


def measure(label, generate):
    null = os.devnull
    args = [BIN, "check", "/dev/stdin", "-j", JOBS, "--color", "never", "--fail-on", "none",
            "-o", null, "--json", null, "--sarif", null, "--junit", null, "--html", null,
            "--gitlab", null]
    start = time.monotonic()
    with open(null, "w") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=out, stderr=err)
        sink = Counting(child.stdin)
        what = generate(sink)
        child.stdin.close()
        # wait4: the resource usage of this child alone.
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    wall = time.monotonic() - start
    print("%-36s %6.0f MB  exit %d  peak RSS %6.1f MiB  %6.1f s" %
          (label % what, sink.n / 1e6, child.returncode, usage.ru_maxrss / 1024, wall))
    print("    " + (stderr.strip().splitlines() or [""])[-1])


def main():
    if not os.path.exists(BIN):
        sys.exit("build the release binary first: cargo build --release (or set BIN)")
    measure("%%d findings, %d stations" % STATIONS,
            lambda out: (findings_trace(out, FINDINGS, STATIONS), FINDINGS)[1])
    measure("%%d frames, %d stations" % STATIONS,
            lambda out: big_trace(out, TRACE_MB * 1_000_000, STATIONS))


if __name__ == "__main__":
    main()
