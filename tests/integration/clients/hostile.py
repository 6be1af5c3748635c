#!/usr/bin/python3
"""Hostile and odd clients over the wire (raw sockets).

  hostile.py --dst 198.18.0.1 --spool-tool PATH --spool DIR --stats FILE
             --run-dir DIR [--idle-timeout S --greeting-delay S] [CHECK...]

Checks (one PASS/FAIL line each, named clients-hostile-CHECK):
  relay    percent hack, bang path, source route, quoted local part with
           '@', a second '@', a domain literal and an external domain:
           554 5.7.1 each; the session still takes a good RCPT
  longline a 600-octet command and a 1 MiB line without LF: 500 5.5.2
           Line too long; the session goes on (NOOP 250)
  bytes    NUL or DEL in a command: 500 5.5.2; 8-bit in EHLO: 501
           5.5.2; Latin-1 (not UTF-8) in MAIL FROM: 501 5.1.7; UTF-8 or
           other 8-bit bytes in MAIL FROM / RCPT TO without SMTPUTF8:
           553 5.6.7; the session goes on
  flood    1,000 pipelined RCPTs: 100 x 250 then 900 x 452 4.5.3; the
           message is spooled with the first 100 recipients
  slow     5 clients sending EHLO and MAIL FROM one byte per 50 ms: the
           commands work and the messages are spooled
  quit     QUIT: 221, then an orderly close (FIN, read() returns EOF), not
           a reset that can overtake the 221
  memory   two rounds of 40 hostile clients (1 MiB lines, RCPT floods,
           2 MiB of DATA then a reset, NUL bytes, vanishing mid-command):
           afterwards no session, no message buffer, the mbufs in use back
           to the baseline (waiting up to the command timeout: a reset
           lost in the TAP queue leaves a session until then); sluiced's
           VmRSS grows less than 32 MiB over both rounds and less than
           8 MiB from round one to round two
  early    (with greeting_delay) talking before the greeting: 554 5.5.1
           and the connection closed; a patient client gets 220 after the
           delay
  idle     (with a small idle_timeout) a client that says nothing after
           the greeting gets 421 4.4.2 and is closed
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (QID, Conn, Spool, fail, ok, read_stats,  # noqa: E402
                    rss_kib, sluiced_pid, smtp_usage)

A = None


def check_relay():
    name = "clients-hostile-relay"
    tricks = [
        ("percent hack", "<user%external.example.com@example.net>"),
        ("bang path", "<external.example.com!user@example.net>"),
        ("source route", "<@example.net:user@external.example.com>"),
        ("quoted local part with @",
         '<"user@external.example.com"@example.net>'),
        ("second @", "<user@external.example.com@example.net>"),
        ("domain literal", "<user@[198.18.0.1]>"),
        ("external domain", "<user@external.example.com>"),
    ]
    c = Conn(A.dst)
    try:
        c.cmd("EHLO relay.example.org\r\n")
        code, r = c.cmd("MAIL FROM:<spammer@example.org>\r\n")
        if code != 250:
            return fail(name, f"MAIL FROM: {r!r}")
        got = []
        for what, addr in tricks:
            code, r = c.cmd(f"RCPT TO:{addr}\r\n")
            got.append(r.decode())
            if code != 554 or not r.startswith(b"554 5.7.1 "):
                return fail(name, f"{what} {addr}: {r!r}, want 554 5.7.1")
        code, r = c.cmd("RCPT TO:<user@example.net>\r\n")
        if code != 250:
            return fail(name, f"a good RCPT after the tricks: {r!r}")
        c.cmd("QUIT\r\n")
    finally:
        c.close()
    ok(name, f"{len(tricks)} tricks ({', '.join(t for t, _ in tricks)}): "
       f"554 5.7.1 each (e.g. '{got[0]}'); a good RCPT still 250")


def check_longline():
    name = "clients-hostile-longline"
    c = Conn(A.dst)
    try:
        c.cmd("EHLO long.example.org\r\n")
        code1, r1 = c.cmd(b"MAIL FROM:<" + b"a" * 600 + b"@example.org>\r\n")
        # 1 MiB without a line end, then the end: one reply
        for _ in range(16):
            c.send(b"X" * 65536)
        code2, r2 = c.cmd(b"\r\n")
        code3, r3 = c.cmd(b"NOOP\r\n")
        c.cmd(b"QUIT\r\n")
    finally:
        c.close()
    for what, code, r in (("600-octet command", code1, r1),
                          ("1 MiB line", code2, r2)):
        if code != 500 or not r.startswith(b"500 5.5.2 Line too long"):
            return fail(name, f"{what}: {r!r}, want 500 5.5.2 Line too long")
    if code3 != 250:
        return fail(name, f"NOOP after the long lines: {r3!r}")
    ok(name, f"600-octet MAIL FROM and a 1 MiB line: '{r1.decode()}'; "
       f"NOOP afterwards 250")


def check_bytes():
    name = "clients-hostile-bytes"
    cases = [
        ("NUL in NOOP", b"NOOP\x00x\r\n", 500, b"500 5.5.2 "),
        ("NUL in EHLO", b"EHLO a\x00b.example.org\r\n", 500, b"500 5.5.2 "),
        ("8-bit EHLO", b"EHLO h\xe9llo.example.org\r\n", 501, b"501 5.5.2 "),
        ("EHLO", b"EHLO bytes.example.org\r\n", 250, b"250 "),
        ("Latin-1 MAIL FROM", b"MAIL FROM:<j\xfcrgen@example.org>\r\n", 501,
         b"501 5.1.7 "),
        ("UTF-8 MAIL FROM without SMTPUTF8",
         b"MAIL FROM:<j\xc3\xbcrgen@example.org>\r\n", 553, b"553 5.6.7 "),
        ("MAIL FROM", b"MAIL FROM:<a@example.org>\r\n", 250, b"250 "),
        ("8-bit RCPT TO", b"RCPT TO:<\xff\xfe@example.net>\r\n", 553,
         b"553 5.6.7 "),
        ("DEL in RCPT", b"RCPT TO:<a\x7fb@example.net>\r\n", 500,
         b"500 5.5.2 "),
        ("NOOP", b"NOOP\r\n", 250, b"250 "),
    ]
    c = Conn(A.dst)
    seen = []
    try:
        for what, line, want, prefix in cases:
            code, r = c.cmd(line)
            seen.append(f"{what} {code}")
            if code != want or not r.startswith(prefix):
                return fail(name, f"{what}: {r!r}, want {prefix.decode()}")
        c.cmd(b"QUIT\r\n")
    finally:
        c.close()
    ok(name, "; ".join(seen))


def check_flood():
    name = "clients-hostile-flood"
    sp = Spool(A.spool_tool, A.spool)
    c = Conn(A.dst, timeout=60)
    try:
        c.cmd("EHLO flood.example.org\r\n")
        c.cmd("MAIL FROM:<flood@example.org>\r\n")
        c.send(b"".join(f"RCPT TO:<r{i}@example.net>\r\n".encode()
                        for i in range(1000)))
        rs = c.replies(1000)
        codes = [x[0] for x in rs]
        code, r = c.cmd("DATA\r\n")
        code2, r2 = c.cmd("Subject: flood\r\n\r\nmany recipients\r\n.\r\n")
        c.cmd("QUIT\r\n")
    finally:
        c.close()
    if codes[:100] != [250] * 100 or codes[100:] != [452] * 900 or \
            not rs[100][1].startswith(b"452 4.5.3"):
        first = next((i for i, x in enumerate(codes)
                      if x != (250 if i < 100 else 452)), None)
        return fail(name, f"reply {first}: {rs[first][1]!r}; want 100 x 250 "
                    f"then 452 4.5.3")
    m = QID.search(r2)
    if code != 354 or code2 != 250 or not m:
        return fail(name, f"DATA: {r!r}, end of data: {r2!r}")
    recs = [x for x in sp.list() if x["queue_id"] == m.group(1).decode()]
    want = [f"r{i}@example.net" for i in range(100)]
    if len(recs) != 1 or recs[0]["to"] != want:
        return fail(name, f"{len(recs)} records; recipients "
                    f"{len(recs[0]['to']) if recs else 0}, want r0..r99")
    ok(name, f"1000 pipelined RCPTs: 100 x 250, 900 x '{rs[100][1].decode()}'"
       f"; {r2.decode()} with the first 100 recipients")


def slow_send(c, data, gap=0.05):
    for b in data:
        c.send(bytes([b]))
        time.sleep(gap)


def check_slow(n=5):
    name = "clients-hostile-slow"
    sp = Spool(A.spool_tool, A.spool)
    res, lock = {}, threading.Lock()

    def one(i):
        try:
            c = Conn(A.dst, timeout=60)
            t0 = time.time()
            slow_send(c, f"EHLO slow{i}.example.org\r\n".encode())
            e = c.reply()
            slow_send(c, f"MAIL FROM:<slow{i}@example.org>\r\n".encode())
            m = c.reply()
            dt = time.time() - t0
            r = c.cmd(f"RCPT TO:<slow{i}@example.net>\r\n")
            d = c.cmd("DATA\r\n")
            q = c.cmd(f"Subject: slow {i}\r\n\r\nslowly\r\n.\r\n")
            c.cmd("QUIT\r\n")
            c.close()
            out = (e[0], m[0], r[0], d[0], q, dt)
        except Exception as ex:  # noqa: BLE001
            out = str(ex)
        with lock:
            res[i] = out

    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    qids = []
    for i, o in sorted(res.items()):
        if isinstance(o, str) or o[:4] != (250, 250, 250, 354) or \
                o[4][0] != 250:
            return fail(name, f"client {i}: {o}")
        qids.append(QID.search(o[4][1]).group(1).decode())
    have = {x["queue_id"] for x in sp.list()}
    if not set(qids) <= have:
        return fail(name, f"not spooled: {sorted(set(qids) - have)}")
    secs = min(o[5] for o in res.values())
    ok(name, f"{n} clients at one byte per 50 ms ({secs:.1f}s for EHLO + "
       f"MAIL FROM): 250, 250, then the messages spooled")


def check_quit():
    name = "clients-hostile-quit"
    c = Conn(A.dst)
    try:
        c.cmd("EHLO quit.example.org\r\n")
        code, r = c.cmd("QUIT\r\n")
        c.s.settimeout(5)
        try:
            rest = c.f.read()
            how = "FIN" if rest == b"" else f"more bytes {rest[:40]!r}"
        except ConnectionResetError:
            how = "RST"
        except socket.timeout:
            how = "nothing within 5s"
    finally:
        c.close()
    if code != 221 or how != "FIN":
        return fail(name, f"QUIT: {r!r}, then {how}; want 221 and an orderly "
                    f"close (a reset after 221 can overtake it on a lossy "
                    f"path: the client never sees the 221)")
    ok(name, f"{r.decode()}, then an orderly close (FIN)")


# ---- memory -----------------------------------------------------------------

def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def hostile_client(i):
    """One of several nasty behaviours, chosen by i; errors are expected
    (the server closes on us) and ignored."""
    kind = i % 5
    try:
        s = socket.create_connection((A.dst, 25), timeout=30)
        f = s.makefile("rb")
        f.readline()
        if kind == 0:    # a 1 MiB line, then vanish
            for _ in range(16):
                s.sendall(b"Y" * 65536)
            rst_close(s)
            return
        s.sendall(b"EHLO mem.example.org\r\nMAIL FROM:<m@example.org>\r\n")
        if kind == 1:    # RCPT flood, then close without QUIT
            s.sendall(b"".join(f"RCPT TO:<m{k}@example.net>\r\n".encode()
                               for k in range(1000)))
            time.sleep(0.2)
            s.close()
            return
        s.sendall(b"RCPT TO:<m@example.net>\r\nDATA\r\n")
        if kind == 2:    # 2 MiB of DATA, then a reset
            line = b"z" * 998 + b"\r\n"
            for _ in range(2048):
                s.sendall(line)
            rst_close(s)
            return
        if kind == 3:    # NUL and bare CR in the data, then a reset
            s.sendall(b"Subject: x\r\n\r\n" + b"\x00\r" * 50000)
            rst_close(s)
            return
        # kind 4: half a command, then a reset
        s.sendall(b"Subject: x\r\n\r\nbody\r\n.\r\nMAIL FRO")
        time.sleep(0.1)
        rst_close(s)
    except OSError:
        pass


def settle(t0):
    """Stats written after t0 with no session and no buffer in use. A
    client's RST can be dropped in the kernel's TAP queue (its tx
    "dropped" counter) and is never resent: that session ends at the
    command timeout (smtp.command_timeout, small in this config)."""
    return read_stats(A.stats, after=t0, deadline=A.command_timeout + 10,
                      want=lambda st: smtp_usage(st)[:2] == (0, 0) and
                      smtp_usage(st)[2] <= base_mbufs)


base_mbufs = 0


def check_memory(rounds=2, clients=40):
    global base_mbufs
    name = "clients-hostile-memory"
    pid = sluiced_pid(A.run_dir)
    t0 = time.time()
    st = read_stats(A.stats, after=t0 + 1.1, deadline=10,
                    want=lambda st: smtp_usage(st)[:2] == (0, 0))
    if st is None or smtp_usage(st)[:2] != (0, 0):
        return fail(name, f"no quiet baseline: {st and smtp_usage(st)}")
    base_mbufs = smtp_usage(st)[2]
    rss = [rss_kib(pid)]
    slow = []
    for _ in range(rounds):
        th = [threading.Thread(target=hostile_client, args=(i,))
              for i in range(clients)]
        for t in th:
            t.start()
        for t in th:
            t.join(60)
        t1 = time.time()
        st = settle(t1 + 1.1)
        if time.time() - t1 > 5:
            slow.append(f"{time.time() - t1:.0f}s")
        live, pool, mbufs = smtp_usage(st)
        if (live, pool) != (0, 0) or mbufs > base_mbufs:
            return fail(name, f"after {clients} hostile clients: {live} "
                        f"sessions, {pool} bytes of message buffers, {mbufs}"
                        f" mbufs in use (baseline {base_mbufs})")
        rss.append(rss_kib(pid))
    grow, step = rss[-1] - rss[0], rss[-1] - rss[1]
    bound, flat = 32 * 1024, 8 * 1024
    if grow > bound or step > flat:
        return fail(name, f"VmRSS {rss[0]} -> {' -> '.join(map(str, rss[1:]))}"
                    f" KiB: grew {grow} KiB (bound {bound}), {step} KiB from "
                    f"round 1 to round {rounds} (bound {flat})")
    ok(name, f"{rounds} rounds of {clients} hostile clients: sessions 0, "
       f"message buffers 0, mbufs in use back to {base_mbufs}; VmRSS "
       f"{' -> '.join(str(r // 1024) for r in rss)} MiB (growth "
       f"{grow // 1024} MiB, bound {bound // 1024}; round 1 -> {rounds}: "
       f"{step} KiB, bound {flat // 1024} MiB)" +
       (f"; sessions whose reset was lost ended at the command timeout "
        f"(after {', '.join(slow)})" if slow else ""))


# ---- with greeting_delay / idle_timeout (a second sluiced run) ---------------

def check_early():
    name = "clients-hostile-early"
    s = socket.create_connection((A.dst, 25), timeout=10)
    s.sendall(b"EHLO early.example.org\r\n")
    f = s.makefile("rb")
    line = f.readline()
    try:
        rest = f.read()
    except OSError:
        rest = b""
    s.close()
    t0 = time.time()
    c = Conn(A.dst, greet=False)
    code, g = c.reply()
    waited = time.time() - t0
    c.cmd("QUIT\r\n")
    c.close()
    if not line.startswith(b"554 5.5.1 ") or rest:
        return fail(name, f"early talker got {line!r} then {rest[:60]!r}; "
                    f"want 554 5.5.1 and the connection closed")
    if code != 220 or waited < A.greeting_delay * 0.8:
        return fail(name, f"patient client: {g!r} after {waited:.2f}s, want "
                    f"220 after ~{A.greeting_delay}s")
    ok(name, f"talking first: '{line.decode().strip()}', closed; a patient "
       f"client: 220 after {waited:.1f}s (greeting_delay "
       f"{A.greeting_delay}s)")


def check_idle():
    name = "clients-hostile-idle"
    c = Conn(A.dst, timeout=A.idle_timeout + 10)
    t0 = time.time()
    code, r = c.reply()
    dt = time.time() - t0
    closed = c.closed(5)
    c.close()
    if code != 421 or not r.startswith(b"421 4.4.2 "):
        return fail(name, f"after {dt:.1f}s: {r!r}, want 421 4.4.2")
    if not (A.idle_timeout * 0.9 <= dt <= A.idle_timeout + 3) or not closed:
        return fail(name, f"421 after {dt:.1f}s (idle_timeout "
                    f"{A.idle_timeout}s), closed: {closed}")
    ok(name, f"silent after the greeting: '{r.decode()}' after {dt:.1f}s "
       f"(idle_timeout {A.idle_timeout}s), then closed")


CHECKS = {"relay": check_relay, "longline": check_longline,
          "bytes": check_bytes, "flood": check_flood, "slow": check_slow,
          "quit": check_quit, "memory": check_memory, "early": check_early,
          "idle": check_idle}
DEFAULT = ["relay", "longline", "bytes", "flood", "slow", "quit", "memory"]


def main():
    global A
    p = argparse.ArgumentParser()
    for a in ("--dst", "--spool-tool", "--spool", "--stats", "--run-dir"):
        p.add_argument(a, required=True)
    p.add_argument("--idle-timeout", type=float, default=0)
    p.add_argument("--greeting-delay", type=float, default=0)
    p.add_argument("--command-timeout", type=float, default=300)
    p.add_argument("checks", nargs="*")
    A = p.parse_args()
    for c in A.checks or DEFAULT:
        try:
            CHECKS[c]()
        except Exception as e:  # noqa: BLE001
            fail(f"clients-hostile-{c}", f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
