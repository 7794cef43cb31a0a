#!/usr/bin/env python3
"""The proxy's resident memory under the two loads of issue #15, on 127.0.0.1 only.

It measures; it asserts nothing. Standard library only (no WebSocket package: the few frames
it needs are written by hand).

  stuck  A CSMS that accepts and then stops reading; 30 chargers, one after the other, each
         sends 256 KiB messages until its sends block, then leaves (FIN). Prints the proxy's
         RSS before, its peak, and every second after the last charger left, until its
         anonymous part (the heap; the rest is the binary's pages, read in as code runs) is
         back within 10 % of the baseline (the relays end by the write timeout) or a limit
         passes. With RSS_ROUNDS=N the 30 chargers come N times to the same proxy process
         (the same identities), and the RSS after each round's last charger left (once the
         relays ended, or the limit) is printed: a level that stays put from round to round
         is a bounded warm-up (allocator pages kept for reuse), one that climbs is a leak.
  huge   100 chargers at once each send one 16 MiB message to a CSMS that reads everything.
         Prints the peak RSS next to --in-flight-budget, the RSS once the CSMS has every byte
         (the chargers still connected), then every second after the chargers left until it
         is back within 10 % of the baseline or a limit passes, and how many frames the proxy
         forwarded but did not inspect (its `not inspected` notices).

Usage: benches/proxy_rss.py [stuck|huge|both]
Environment: RSS_STDERR (a file for the proxy's stderr, kept; without it a temporary file, removed at the end), BIN (default target/release/ocpp-inspector), RSS_WRITE_TIMEOUT (5 s),
RSS_CHARGERS (30 / 100), RSS_ROUNDS (stuck only, 1), RSS_BUDGET (the proxy's default, 256 MiB), RSS_MESSAGE (16 MiB).
"""

import base64
import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time

BIN = os.environ.get("BIN", "target/release/ocpp-inspector")
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MIB = 1 << 20


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kib(pid, field="VmRSS:"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def anon(pid):
    """The anonymous part of the RSS (the heap; the rest is the binary's pages)."""
    return f"anon {rss_kib(pid, 'RssAnon:') / 1024:.1f} MiB"


class Sampler(threading.Thread):
    """The peak RSS of `pid`, sampled every 50 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.05)


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        data += chunk
    return data


class Csms(threading.Thread):
    """Accepts WebSocket handshakes; then reads everything (`drain`) or nothing."""

    def __init__(self, drain):
        super().__init__(daemon=True)
        self.drain = drain
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.received = 0
        self.lock = threading.Lock()

    def run(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        head = read_head(conn).decode("latin-1")
        key = ""
        for line in head.split("\r\n"):
            if line.lower().startswith("sec-websocket-key:"):
                key = line.split(":", 1)[1].strip()
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        conn.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
                "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
            ).encode()
        )
        if not self.drain:
            self.held.append(conn)  # never read again
            return
        buf = bytearray(1 << 20)
        while True:
            try:
                n = conn.recv_into(buf)
            except OSError:
                return
            if n == 0:
                return
            with self.lock:
                self.received += n


def client_frame(payload, opcode=0x1):
    """A masked frame with a zero mask key (legal; keeps the payload as is)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + b"\0\0\0\0" + payload


def data_transfer(n, i):
    head = f'[2,"{i}","DataTransfer",{{"vendorId":"x","data":"'.encode()
    tail = b'"}]'
    return head + b"z" * (n - len(head) - len(tail)) + tail


def charger(port, identity):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            f"GET /ocpp/{identity} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        ).encode()
    )
    head = read_head(s)
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(head.split(b"\r\n")[0].decode("latin-1"))
    return s


def start_proxy(upstream_port, extra):
    port = free_port()
    args = [BIN, "proxy", "--no-tui", "--listen", f"127.0.0.1:{port}",
            "--upstream", f"ws://127.0.0.1:{upstream_port}/csms", *extra]
    path = os.environ.get("RSS_STDERR") or f"/tmp/proxy_rss.{os.getpid()}.stderr"
    err = open(path, "w")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
    proc.stderr_path = path
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("the proxy did not start")


def stop(proc):
    """Ends the proxy; its stderr file goes too unless RSS_STDERR named it."""
    proc.terminate()
    proc.wait(timeout=30)
    if not os.environ.get("RSS_STDERR"):
        try:
            os.unlink(proc.stderr_path)
        except OSError:
            pass


def stderr_count(proc, what):
    try:
        with open(proc.stderr_path, errors="replace") as f:
            return sum(1 for line in f if what in line)
    except OSError:
        return 0


def back_to(proc, base_anon, limit, label):
    """Prints the RSS every second until its anonymous part (the heap: the rest is the
    binary's own pages, read in as code runs) is within 10 % (+1 MiB) of `base_anon`; the
    seconds it took."""
    for sec in range(1, limit + 1):
        time.sleep(1)
        now = rss_kib(proc.pid, "RssAnon:")
        print(f"  {sec:3d} s after {label}: RSS {rss_kib(proc.pid) / 1024:.1f} MiB ({anon(proc.pid)})")
        if now <= base_anon * 1.10 + 1024:
            return sec
    return None


def relays_ended(proc):
    """The proxy's open sockets now (each live relay holds two)."""
    try:
        return f"{len(os.listdir(f'/proc/{proc.pid}/fd'))} file descriptors open"
    except OSError:
        return "unknown"


def stuck():
    wt = int(os.environ.get("RSS_WRITE_TIMEOUT", "5"))
    n = int(os.environ.get("RSS_CHARGERS", "30"))
    rounds = max(1, int(os.environ.get("RSS_ROUNDS", "1")))
    cs = Csms(drain=False)
    cs.start()
    proc, port = start_proxy(cs.port, ["--write-timeout", str(wt), "--idle-timeout", str(4 * wt)])
    time.sleep(1)
    base = rss_kib(proc.pid)
    base_anon = rss_kib(proc.pid, "RssAnon:")
    sampler = Sampler(proc.pid)
    sampler.start()
    levels = []
    for r in range(1, rounds + 1):
        t0 = time.time()
        for i in range(n):
            s = charger(port, f"CP-STUCK-{i}")
            s.settimeout(0.5)
            try:
                for k in range(400):
                    # Fresh ids: no duplicate-id finding per message.
                    s.sendall(client_frame(data_transfer(256 << 10, f"s{i}-{k}-{r}")))
            except (socket.timeout, OSError):
                pass
            s.close()  # FIN while the proxy is blocked writing to the CSMS
        left = time.time()
        label = "the last charger left" + (f" (round {r} of {rounds})" if rounds > 1 else "")
        print(f"stuck CSMS: {n} chargers in {left - t0:.1f} s, write timeout {wt} s"
              + (f", round {r} of {rounds}" if rounds > 1 else ""))
        print(f"  RSS before {base / 1024:.1f} MiB (anon {base_anon / 1024:.1f} MiB); idle timeout {4 * wt} s")
        back = back_to(proc, base_anon, 4 * wt + 10, label)
        levels.append((rss_kib(proc.pid), rss_kib(proc.pid, "RssAnon:")))
        print(f"  relays ended: {relays_ended(proc)}")
        print(f"  peak RSS{' so far' if rounds > 1 else ''} {sampler.peak / 1024:.1f} MiB; "
              + (f"heap (anon) back within 10 % (+1 MiB) of the baseline {back} s after the last charger left"
                 if back else "not back to the baseline within the limit"))
    sampler.running = False
    if rounds > 1:
        print(f"  after each round (baseline RSS {base / 1024:.1f} MiB, anon {base_anon / 1024:.1f} MiB): "
              + "; ".join(f"round {i + 1} RSS {rss / 1024:.1f} MiB (anon {an / 1024:.1f} MiB)"
                          for i, (rss, an) in enumerate(levels)))
    stop(proc)


def huge():
    n = int(os.environ.get("RSS_CHARGERS", "100"))
    size = int(os.environ.get("RSS_MESSAGE", str(16 * MIB)))
    budget = os.environ.get("RSS_BUDGET")
    cs = Csms(drain=True)
    cs.start()
    extra = ["--max-message", str(size + 1024), "--write-timeout", "60"]
    if budget:
        extra += ["--in-flight-budget", budget]
    proc, port = start_proxy(cs.port, extra)
    time.sleep(1)
    base = rss_kib(proc.pid)
    base_anon = rss_kib(proc.pid, "RssAnon:")
    sampler = Sampler(proc.pid)
    sampler.start()
    msg = client_frame(data_transfer(size, "h"))
    socks = [charger(port, f"CP-HUGE-{i}") for i in range(n)]
    errors = []

    def send(s):
        try:
            s.settimeout(120)
            s.sendall(msg)
        except OSError as e:
            errors.append(str(e))

    t0 = time.time()
    threads = [threading.Thread(target=send, args=(s,)) for s in socks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    want = n * len(msg)
    deadline = time.time() + 300
    while cs.received < want * 0.999 and time.time() < deadline:
        time.sleep(0.2)
    took = time.time() - t0
    time.sleep(2)
    delivered = rss_kib(proc.pid)
    print(f"huge messages: {n} chargers x {size / MIB:.0f} MiB at once, "
          f"in-flight budget {(int(budget) if budget else 256 * MIB) / MIB:.0f} MiB")
    print(f"  RSS before {base / 1024:.1f} MiB (anon {base_anon / 1024:.1f} MiB), peak {sampler.peak / 1024:.1f} MiB; "
          f"the CSMS got {cs.received / MIB:.0f} of {want / MIB:.0f} MiB in {took:.1f} s; "
          f"{len(errors)} charger send errors")
    print(f"  RSS 2 s after the CSMS got it all (chargers still connected) {delivered / 1024:.1f} MiB ({anon(proc.pid)}); "
          f"frames not inspected (budget full) {stderr_count(proc, 'not inspected')}; "
          f"connections closed with 1013 {stderr_count(proc, 'closed with 1013')}")
    for s in socks:
        s.close()
    back = back_to(proc, base_anon, 30, "the chargers left")
    sampler.running = False
    print(f"  peak RSS {sampler.peak / 1024:.1f} MiB; "
          + (f"heap (anon) back within 10 % (+1 MiB) of the baseline {back} s after the chargers left"
             if back else "not back to the baseline within 30 s"))
    stop(proc)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "both"
    if what in ("stuck", "both"):
        stuck()
    if what in ("huge", "both"):
        huge()
