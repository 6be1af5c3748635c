"""Helpers shared by the client drivers of tests/integration/clients/.

The spool is read with sluice-spool (list --json, show, export), so what
the checks see is what the control plane sees. Every driver prints one
line "PASS name: ..." or "FAIL name: ..." per check.
"""
import json
import os
import re
import socket
import subprocess
import time

QID = re.compile(rb"queued as ([0-9A-Z]{16})")


def ok(name, msg):
    print(f"PASS {name}: {msg}", flush=True)


def fail(name, msg):
    print(f"FAIL {name}: {msg}", flush=True)


class Spool:
    """sluice-spool over one spool directory."""

    def __init__(self, tool, directory):
        self.tool, self.dir = tool, directory

    def _run(self, *args):
        return subprocess.run([self.tool, "--spool", self.dir, *args],
                              check=True, capture_output=True,
                              timeout=120).stdout

    def list(self):
        out = self._run("list", "--json")
        return [json.loads(l) for l in out.splitlines() if l.strip()]

    def qids(self):
        return {r["queue_id"] for r in self.list()}

    def export(self, qid):
        return self._run("export", qid)

    def show(self, qid):
        return self._run("show", qid).decode(errors="replace")


def strip_received(b):
    """The message without its first header field (the Received: sluiced
    prepends), or None when it does not start with one."""
    if not b.startswith(b"Received:"):
        return None
    i = b.find(b"\r\n")
    while i >= 0 and b[i + 2:i + 3] in (b" ", b"\t"):
        i = b.find(b"\r\n", i + 2)
    return None if i < 0 else b[i + 2:]


def crlf(b):
    """LF or CRLF line ends -> CRLF, ending with CRLF (what a mail client
    puts on the wire for a text file)."""
    b = re.sub(rb"\r?\n", b"\r\n", b)
    return b if b.endswith(b"\r\n") else b + b"\r\n"


class Conn:
    """A raw SMTP connection: send bytes, read replies."""

    def __init__(self, dst, port=25, timeout=30, greet=True):
        self.s = socket.create_connection((dst, port), timeout=timeout)
        self.f = self.s.makefile("rb")
        self.greeting = self.reply() if greet else None

    def send(self, b):
        self.s.sendall(b)

    def reply(self):
        """One reply: (code, last line); (None, b'') when closed."""
        last = b""
        while True:
            line = self.f.readline()
            if not line:
                return None, last
            last = line.rstrip(b"\r\n")
            if line[3:4] != b"-":
                return int(last[:3]) if last[:3].isdigit() else -1, last

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def cmd(self, line):
        self.send(line if isinstance(line, bytes) else line.encode())
        return self.reply()

    def closed(self, wait=5.0):
        """True when the peer has closed (EOF) within wait seconds."""
        self.s.settimeout(wait)
        try:
            return self.f.read(1) == b""
        except (socket.timeout, OSError) as e:
            return not isinstance(e, socket.timeout)

    def close(self):
        try:
            self.f.close()
            self.s.close()
        except OSError:
            pass


def read_stats(path, after=0.0, deadline=15.0, want=None):
    """The statistics JSON written at or after time `after` (sluiced
    rewrites it every second), waiting until want(stats) is true or the
    deadline passes; returns the last one read (or None)."""
    end = time.time() + deadline
    st = None
    while True:
        try:
            with open(path) as f:
                cur = json.load(f)
            if cur.get("time", 0) >= after:
                st = cur
                if want is None or want(st):
                    return st
        except (OSError, ValueError):  # replaced while read: next one
            pass
        if time.time() > end:
            return st
        time.sleep(0.25)


def smtp_usage(st):
    """(sessions, message buffer bytes, mbufs in use) from a stats doc."""
    sm = [lc.get("smtp", {}) for lc in st["lcores"]]
    return (sum(x.get("live", 0) for x in sm),
            sum(x.get("pool_in_use", 0) for x in sm),
            st["total"]["mempool_in_use"])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def sluiced_pid(run_dir):
    with open(os.path.join(run_dir, "sluiced.pid")) as f:
        return int(f.read().strip())
