"""Shared helpers for the net integration clients (tests/integration/net).

Every client is run inside the client network namespace by ./run (or by
hand: `ip netns exec sluice-test /usr/bin/python3 X.py ...`), prints its
own PASS/FAIL lines and exits non-zero on failure. Python 3 stdlib only
here; scapy is imported by the clients that craft packets.

Target: --dst (198.18.0.1, sluiced) and --stats (sluiced's stats file).
Without a stats file (the kernel as target, see ./run --target kernel)
the checks that need sluiced's counters say so in their PASS line and
check only what the client sees.
"""
import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time

ECHO_PORT = 7
DISCARD_PORT = 9


def common_args(desc):
    ap = argparse.ArgumentParser(description=desc)
    ap.add_argument("--dst", default="198.18.0.1", help="server address")
    ap.add_argument("--src", default="198.18.0.2", help="our address")
    ap.add_argument("--stats", default="", help="sluiced.stats.json ('' = none)")
    ap.add_argument("--name", default="", help="prefix of the PASS/FAIL names")
    return ap


def raise_nofile(n=65536):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(max(hard, n), 1 << 20))
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Report:
    """Collects PASS/FAIL lines; exit status is the number of failures."""

    def __init__(self, prefix=""):
        self.prefix = prefix
        self.failed = 0

    def check(self, name, ok, detail=""):
        line = "%s %s%s" % ("PASS" if ok else "FAIL", self.prefix, name)
        if detail:
            line += ": " + detail
        print(line, flush=True)
        if not ok:
            self.failed += 1
        return ok

    def exit(self):
        sys.exit(1 if self.failed else 0)


def log(*a):
    print("   ", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# sluiced's stats file. Layout (dataplane/): {"lcores": [{"net": {...},
# "tcp": {...}}, ...], "mempool": {...}} or similar; lookups sum every
# occurrence of a dotted key path found anywhere in the tree, so per-lcore
# counters come out summed and a layout change moves no test.


def _walk_sum(node, parts):
    total, found = 0, False
    if isinstance(node, dict):
        for k, v in node.items():
            if k.lower() == parts[0]:
                if len(parts) == 1:
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        total += v
                        found = True
                    elif isinstance(v, dict):  # e.g. conns: {state: n}
                        pass
                else:
                    t, f = _walk_sum(v, parts[1:])
                    total += t
                    found = found or f
            if isinstance(v, (dict, list)):
                t, f = _walk_sum(v, parts)
                total += t
                found = found or f
    elif isinstance(node, list):
        for v in node:
            t, f = _walk_sum(v, parts)
            total += t
            found = found or f
    return total, found


class Stats:
    def __init__(self, path):
        self.path = path

    @property
    def enabled(self):
        return bool(self.path)

    def read(self):
        """The current document (retries a torn read)."""
        for _ in range(20):
            try:
                with open(self.path) as f:
                    return json.load(f)
            except (OSError, ValueError):
                time.sleep(0.05)
        raise RuntimeError("cannot read stats file %s" % self.path)

    def fresh(self, timeout=5.0):
        """A snapshot written after this call (waits for the next update)."""
        try:
            m0 = os.stat(self.path).st_mtime_ns
        except OSError:
            m0 = 0
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if os.stat(self.path).st_mtime_ns != m0:
                    time.sleep(0.02)  # writer renames whole files; be safe
                    return Snap(self.read())
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("stats file %s not updated within %.0fs" % (self.path, timeout))

    def wait_for(self, pred, timeout):
        """Fresh snapshots until pred(snap) is true; returns (ok, last)."""
        end = time.monotonic() + timeout
        snap = self.fresh()
        while not pred(snap) and time.monotonic() < end:
            snap = self.fresh()
        return pred(snap), snap


# Key names in sluiced.stats.json (dataplane/dp_stats.c): per lcore
# {"mempool": {"in_use"}, "net": {..., "drop": {reason: n}, "drops"},
# "tcp": {"conns": {"ESTABLISHED": n, ...}, counters...}, "diag": {...}},
# and "total": {"mempool_in_use", "nconns", "drops"}. Short names used by
# the clients map to dotted paths here: one place to change.
KEYS = {
    "mbuf_in_use": ["total.mempool_in_use", "mempool.in_use"],
    "established": ["tcp.conns.established"],
    "time_wait": ["tcp.conns.time-wait"],
    "listen": ["tcp.conns.listen"],
}
CONN_STATES = ["closed", "listen", "syn-sent", "syn-received", "established",
               "fin-wait-1", "fin-wait-2", "closing", "time-wait",
               "close-wait", "last-ack"]


class Snap:
    def __init__(self, doc):
        self.doc = doc

    def has(self, name):
        for p in KEYS.get(name, [name]):
            if _walk_sum(self.doc, p.lower().split("."))[1]:
                return True
        return False

    def get(self, name):
        for p in KEYS.get(name, [name]):
            t, found = _walk_sum(self.doc, p.lower().split("."))
            if found:
                return t
        raise KeyError("stats key %r not found (tried %s)" % (name, KEYS.get(name, [name])))

    def conns(self, state):
        for p in ("tcp.conns." + state,):
            t, found = _walk_sum(self.doc, p.split("."))
            if found:
                return t
        raise KeyError("no connection count for state %s" % state)

    def busy_conns(self):
        """Connections in any state but LISTEN, TIME_WAIT and CLOSED."""
        return {s: self.conns(s) for s in CONN_STATES
                if s not in ("listen", "time-wait", "closed")
                and self._has_state(s) and self.conns(s)}

    def _has_state(self, s):
        try:
            self.conns(s)
            return True
        except KeyError:
            return False


def delta(a, b, name):
    return b.get(name) - a.get(name)


# ---------------------------------------------------------------------------
# small socket helpers

def echo_roundtrip(dst, port=ECHO_PORT, payload=b"ping\n", timeout=5.0, src=None):
    """Connect, send payload, read it back, half-close, expect EOF."""
    with socket.create_connection((dst, port), timeout=timeout,
                                  source_address=(src, 0) if src else None) as s:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            b = s.recv(65536)
            if not b:
                break
            got += b
        if got != payload:
            raise RuntimeError("echo returned %d bytes, not the %d sent" % (len(got), len(payload)))
        s.shutdown(socket.SHUT_WR)
        if s.recv(1) != b"":
            raise RuntimeError("data after the echo")
    return True


def sh(cmd, check=True, timeout=30):
    r = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True,
                       text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (cmd, r.returncode, r.stderr.strip()))
    return r.stdout


def iface_of(addr):
    """The interface in this namespace holding addr (the TAP's kernel side)."""
    out = sh(["ip", "-o", "-4", "addr", "show"])
    for line in out.splitlines():
        f = line.split()
        if f[3].split("/")[0] == addr:
            return f[1].split("@")[0]
    raise RuntimeError("no interface holds %s" % addr)


def mac_of(dst, timeout=3.0):
    """dst's MAC from the neighbour table (pings once to fill it)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        out = sh(["ip", "neigh", "show", dst], check=False)
        for line in out.splitlines():
            f = line.split()
            if "lladdr" in f:
                return f[f.index("lladdr") + 1]
        sh(["ping", "-c", "1", "-W", "1", dst], check=False)
    raise RuntimeError("no MAC for %s" % dst)


# ---------------------------------------------------------------------------
# hand-built IPv4/TCP (raw sockets: faster than building with scapy)

def csum(data):
    import struct
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def ip_tcp(src, dst, sport, dport, seq, ack, flags, win=65535, payload=b"",
           opts=b"", ipid=0):
    """An IPv4 packet carrying one TCP segment, checksums filled."""
    import struct
    s_b, d_b = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (5 + len(opts) // 4) << 4, flags, win, 0, 0) + opts + payload
    c = csum(s_b + d_b + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid, 0, 64, 6, 0,
                       s_b, d_b) + tcp


def parse_tcp(frame):
    """(src, dst, sport, dport, seq, ack, flags, win, payload_len, opts)
    from an Ethernet+IPv4+TCP frame, or None."""
    import struct
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 15) * 4
    tot = struct.unpack("!H", frame[16:18])[0]
    t = 14 + ihl
    sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", frame[t:t + 16])
    doff = (off >> 4) * 4
    return (socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34]), sport,
            dport, seq, ack, flags, win, tot - ihl - doff, frame[t + 20:t + doff])
