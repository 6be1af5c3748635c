#!/usr/bin/python3
"""Bulk transfers with end-to-end digests.

  bulk.py echo    --bytes N [--conns K]   N bytes split over K parallel
      echo connections; each sends seeded random data (never repeating,
      so a misplaced or duplicated segment changes the digest) while
      reading the echo; SHA-256 of what each sent must equal SHA-256 of
      what came back, lengths equal, then half-close and EOF (no reset).
  bulk.py discard --bytes N               N bytes to the discard service,
      half-close, the server's FIN must arrive (clean close); with stats,
      sluiced's tcp bytes_in must have grown by at least N.

A transfer that makes no progress for --stall seconds, or runs past
--timeout, fails. Prints the time and rate (the PASS line carries them).
PASS/FAIL: <name> (default bulk-echo / bulk-discard).
"""
import hashlib
import random
import selectors
import socket
import time

import nettest

CHUNK = 64 * 1024


class Conn:
    def __init__(self, i, n, seed, src, dst, port, echo):
        self.i, self.n, self.echo = i, n, echo
        self.rng = random.Random(seed * 1000003 + i)
        self.h_out, self.h_in = hashlib.sha256(), hashlib.sha256()
        self.sent = self.got = 0
        self.buf = b""
        self.shut = self.eof = False
        self.err = None
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.s.bind((src, 0))
        self.s.setblocking(False)
        self.s.connect_ex((dst, port))
        self.connected = False

    def done(self):
        return self.eof or self.err is not None


def run(a, port, echo):
    conns = []
    base, extra = divmod(a.bytes, a.conns)
    for i in range(a.conns):
        conns.append(Conn(i, base + (1 if i < extra else 0), a.seed,
                          a.src, a.dst, port, echo))
    sel = selectors.DefaultSelector()
    for c in conns:
        sel.register(c.s, selectors.EVENT_WRITE, c)
    t0 = last = time.monotonic()
    progress = 0
    while not all(c.done() for c in conns):
        now = time.monotonic()
        if now - t0 > a.timeout or now - last > a.stall:
            left = [c for c in conns if not c.done()]
            raise TimeoutError("%s (%d of %d bytes back after %.0fs); %d connection(s) "
                               "unfinished, e.g. %s" % (
                "not finished after %.0fs" % a.timeout if now - t0 > a.timeout
                else "no progress for %.0fs" % a.stall,
                sum(c.got for c in conns), a.bytes if echo else 0, now - t0, len(left),
                "; ".join("conn %d sent %d/%d got %d%s" % (c.i, c.sent, c.n, c.got,
                                                          " (half-closed)" if c.shut else "")
                          for c in left[:3])))
        for key, mask in sel.select(1.0):
            c = key.data
            try:
                if not c.connected:
                    e = c.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if e:
                        raise OSError(e, "connect")
                    c.connected = True
                if mask & selectors.EVENT_WRITE and c.sent < c.n:
                    if not c.buf:
                        c.buf = c.rng.randbytes(min(CHUNK, c.n - c.sent))
                        c.h_out.update(c.buf)
                    k = c.s.send(c.buf)
                    c.buf = c.buf[k:]
                    c.sent += k
                    progress += k
                    last = time.monotonic()
                if mask & selectors.EVENT_READ:
                    b = c.s.recv(1 << 20)
                    if b:
                        c.got += len(b)
                        c.h_in.update(b)
                        last = time.monotonic()
                        if not echo or c.got > c.n:
                            raise RuntimeError("%d unexpected bytes from the server" % len(b))
                    else:
                        c.eof = True
                if c.sent == c.n and not c.shut:
                    c.s.shutdown(socket.SHUT_WR)
                    c.shut = True
                if c.eof:
                    sel.unregister(c.s)
                    c.s.close()
                    continue
                ev = selectors.EVENT_READ
                if c.sent < c.n:
                    ev |= selectors.EVENT_WRITE
                sel.modify(c.s, ev, c)
            except (OSError, RuntimeError) as e:
                c.err = "conn %d: %s" % (c.i, e)
                sel.unregister(c.s)
                c.s.close()
    elapsed = time.monotonic() - t0
    errs = [c.err for c in conns if c.err]
    if errs:
        raise RuntimeError("%d connection(s) failed, first: %s" % (len(errs), errs[0]))
    if echo:
        bad = [c.i for c in conns if c.got != c.n or c.h_in.digest() != c.h_out.digest()]
        if bad:
            c = conns[bad[0]]
            raise RuntimeError("%d connection(s) got different data back; conn %d: "
                               "%d/%d bytes, sha256 %s vs %s" % (
                                   len(bad), c.i, c.got, c.n,
                                   c.h_in.hexdigest()[:16], c.h_out.hexdigest()[:16]))
    return elapsed


def main():
    ap = nettest.common_args(__doc__)
    ap.add_argument("mode", choices=["echo", "discard"])
    ap.add_argument("--bytes", type=int, default=100 << 20)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--stall", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    name = a.name or ("bulk-" + a.mode)
    rep = nettest.Report()
    stats = nettest.Stats(a.stats)
    echo = a.mode == "echo"
    before = stats.fresh() if stats.enabled and not echo else None
    try:
        t = run(a, nettest.ECHO_PORT if echo else nettest.DISCARD_PORT, echo)
    except (OSError, RuntimeError, TimeoutError) as e:
        rep.check(name, False, str(e))
        rep.exit()
    mib = a.bytes / (1 << 20)
    detail = "%.0f MiB %s over %d connection(s) in %.1fs (%.1f MiB/s)" % (
        mib, "each way, sha256 equal" if echo else "sent, clean close",
        a.conns, t, mib / t)
    ok = True
    if before is not None:
        after = stats.fresh()
        d = nettest.delta(before, after, "tcp.bytes_in")
        ok = d >= a.bytes
        detail += "; sluiced tcp bytes_in +%d" % d
    rep.check(name, ok, detail)
    rep.exit()


if __name__ == "__main__":
    main()
