#!/usr/bin/python3
"""Kernel echo (RFC 862) and discard (RFC 863) server: the Linux-TCP
reference the net clients are proven against before sluiced serves TCP,
and the kernel side of bench/tap-compare.

    kserver.py [--addr A] [--echo-port 7] [--discard-port 9] [--pidfile F]

One thread, non-blocking sockets and selectors; every connection's
pending echo data is bounded (reading stops while 1 MiB waits to be
sent), so a client that never reads cannot make it grow. Runs until
SIGTERM/SIGINT.
"""
import argparse
import errno
import os
import resource
import selectors
import signal
import socket
import sys

CHUNK = 256 * 1024
PENDING_MAX = 1 << 20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="0.0.0.0")
    ap.add_argument("--echo-port", type=int, default=7)
    ap.add_argument("--discard-port", type=int, default=9)
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    sel = selectors.DefaultSelector()
    listeners = {}
    for port, kind in ((a.echo_port, "echo"), (a.discard_port, "discard")):
        if port <= 0:
            continue
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.addr, port))
        ls.listen(4096)
        ls.setblocking(False)
        listeners[ls.fileno()] = kind
        sel.register(ls, selectors.EVENT_READ, ("listen", kind))

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())

    conns = {}  # fd -> [sock, kind, pending bytearray, eof]

    def close(s):
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        conns.pop(s.fileno(), None)
        s.close()

    def update(s, st):
        ev = 0
        if not st[3] and len(st[2]) < PENDING_MAX:
            ev |= selectors.EVENT_READ
        if st[2]:
            ev |= selectors.EVENT_WRITE
        if ev == 0:
            if st[3]:  # peer finished and everything echoed
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                close(s)
            return
        sel.modify(s, ev, ("conn", st))

    while not stop:
        try:
            events = sel.select(1.0)
        except InterruptedError:
            continue
        for key, mask in events:
            what, data = key.data
            s = key.fileobj
            if what == "listen":
                for _ in range(256):
                    try:
                        c, _addr = s.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError as e:
                        if e.errno in (errno.EMFILE, errno.ENFILE, errno.ECONNABORTED):
                            break
                        raise
                    c.setblocking(False)
                    st = [c, data, bytearray(), False]
                    conns[c.fileno()] = st
                    sel.register(c, selectors.EVENT_READ, ("conn", st))
                continue
            st = data
            try:
                if mask & selectors.EVENT_READ:
                    b = s.recv(CHUNK)
                    if not b:
                        st[3] = True
                    elif st[1] == "echo":
                        st[2] += b
                if mask & selectors.EVENT_WRITE and st[2]:
                    n = s.send(st[2])
                    del st[2][:n]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                close(s)
                continue
            update(s, st)
    for st in list(conns.values()):
        close(st[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
