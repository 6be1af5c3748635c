#!/usr/bin/python3
"""N concurrent echo connections (default 1,000) from one process:
non-blocking sockets and selectors. Each connection sends its own data
(a header naming it, then 1-16 KiB of seeded random bytes, written in
pieces), must get exactly those bytes back, then half-closes and must see
the server's FIN (EOF, no reset). All connections are open at once: none
starts its half-close before every one has connected.

Afterwards sluiced's stats must show no connection left in any state but
LISTEN and TIME_WAIT (ESTABLISHED 0) within 5 s.

PASS/FAIL: echo-concurrent, echo-concurrent-drained.
"""
import random
import selectors
import socket
import time

import nettest


def main():
    ap = nettest.common_args(__doc__)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rep = nettest.Report(a.name)
    nettest.raise_nofile(a.n + 256)
    stats = nettest.Stats(a.stats)
    rng = random.Random(a.seed)

    sel = selectors.DefaultSelector()
    conns = []
    t0 = time.monotonic()
    errors = []
    for i in range(a.n):
        data = b"conn %d\n" % i + rng.randbytes(rng.randint(1024, 16384))
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((a.src, 0))
        err = s.connect_ex((a.dst, nettest.ECHO_PORT))
        st = {"i": i, "s": s, "data": data, "sent": 0, "got": bytearray(),
              "connected": False, "shut": False, "eof": False, "err": None}
        if err not in (0, 115):  # EINPROGRESS
            errors.append("conn %d: connect: errno %d" % (i, err))
            s.close()
            continue
        conns.append(st)
        sel.register(s, selectors.EVENT_WRITE, st)

    n_connected = 0
    live = len(conns)
    deadline = t0 + a.timeout
    while live and time.monotonic() < deadline:
        for key, mask in sel.select(1.0):
            st = key.data
            s = st["s"]
            try:
                if not st["connected"]:
                    e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if e:
                        raise OSError(e, "connect failed")
                    st["connected"] = True
                    n_connected += 1
                    sel.modify(s, selectors.EVENT_READ | selectors.EVENT_WRITE, st)
                    continue
                if mask & selectors.EVENT_WRITE and st["sent"] < len(st["data"]):
                    # pieces of at most 3000 bytes: several segments each
                    end = min(len(st["data"]), st["sent"] + 3000)
                    st["sent"] += s.send(st["data"][st["sent"]:end])
                if mask & selectors.EVENT_READ:
                    b = s.recv(65536)
                    if b:
                        st["got"] += b
                        if len(st["got"]) > len(st["data"]):
                            raise RuntimeError("more bytes back than sent")
                    else:
                        st["eof"] = True
                if st["eof"]:
                    if not st["shut"] or st["got"] != st["data"]:
                        raise RuntimeError("EOF before the echo was complete (%d/%d)"
                                           % (len(st["got"]), len(st["data"])))
                    sel.unregister(s)
                    s.close()
                    live -= 1
                    continue
                ev = selectors.EVENT_READ
                if st["sent"] < len(st["data"]):
                    ev |= selectors.EVENT_WRITE
                elif (not st["shut"] and len(st["got"]) == len(st["data"])
                      and n_connected == len(conns)):
                    s.shutdown(socket.SHUT_WR)
                    st["shut"] = True
                sel.modify(s, ev, st)
            except (OSError, RuntimeError) as e:
                st["err"] = str(e)
                errors.append("conn %d: %s" % (st["i"], e))
                sel.unregister(s)
                s.close()
                live -= 1
        # Connections that finished their echo before the last connect
        # completed are waiting for the go to half-close.
        if n_connected == len(conns):
            for key in list(sel.get_map().values()):
                st = key.data
                if (st["connected"] and not st["shut"]
                        and len(st["got"]) == len(st["data"])):
                    st["s"].shutdown(socket.SHUT_WR)
                    st["shut"] = True
    elapsed = time.monotonic() - t0
    unfinished = [st["i"] for st in conns if not st["eof"] and not st["err"]]
    for st in conns:
        if not st["eof"] and not st["err"]:
            st["s"].close()
    nbytes = sum(len(st["data"]) for st in conns)
    ok = not errors and not unfinished and len(conns) == a.n
    detail = "%d connections, %d bytes each way, %.1fs" % (a.n, nbytes, elapsed)
    if errors:
        detail += "; %d errors, first: %s" % (len(errors), errors[0])
    if unfinished:
        detail += "; %d unfinished after %.0fs (e.g. conn %d)" % (
            len(unfinished), a.timeout, unfinished[0])
    rep.check("echo-concurrent", ok, detail)

    if stats.enabled:
        ok, snap = stats.wait_for(lambda s: s.get("established") == 0
                                  and not s.busy_conns(), 5.0)
        rep.check("echo-concurrent-drained", ok,
                  "established %d, other non-TIME_WAIT states %s, TIME_WAIT %d"
                  % (snap.get("established"), snap.busy_conns() or "none",
                     snap.get("time_wait")))
    rep.exit()


if __name__ == "__main__":
    main()
