#!/usr/bin/python3
"""The gateway with several net and scan lcores (run inside the namespace).

  multi.py --dst 198.18.0.1 --spool-tool PATH --spool DIR --stats FILE
           --work DIR --hostname H [--total N] [--sessions N] CHECK...

Checks (each prints PASS/FAIL lines; the run script gives sluiced
net_lcores 2, scan_lcores 2):
  lcores    ping and ARP answered (the kernel's neighbour entry flushed
            first, so an ARP request goes out: with 2 lcores ARP is copied
            to both); then tests/integration/clients/source.py (Postfix
            smtp-source, N messages over S sessions, every one spooled
            exactly once with the predicted sha256); then from
            sluiced.stats.json: each net lcore served SMTP connections and
            messages, frames were steered between them (none lost to a
            full ring), each scan lcore scanned messages, and the mbufs in
            use went back to their value before the run
  overload  (sluiced with dataplane.scan_ring_size 2: one message out per
            (net, scan) pair) S sessions each send a large message up to
            the final dot, then all final dots at once: some get 250, the
            rest 451 4.3.0 (the session's hand-off refusal), the stats'
            handoff_full grows by exactly the number of 451s; every 250'd
            message is in the spool, none of the 451'd ones; each session
            that got 451 retries in the same session and gets 250
  addrcap   (smtp.max_connections_per_address CAP) CAP connections from
            this one address all get 220 however the steering spreads
            them over the net lcores, connection CAP + 1 gets 421 4.7.0
"""
import argparse
import fcntl
import os
import re
import subprocess
import struct
import sys
import termios
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "clients"))
from common import Conn, Spool, fail, ok, read_stats  # noqa: E402

A = None


def lcores(st):
    return st["lcores"], st["scan_lcores"]


def ping(name, count=10):
    r = subprocess.run(["ping", "-c", str(count), "-i", "0.05", "-W", "1",
                        "-q", A.dst], capture_output=True, text=True,
                       timeout=30)
    m = re.search(r"(\d+) received", r.stdout)
    got = int(m.group(1)) if m else 0
    return r.returncode == 0 and got == count, got


def check_ping_arp():
    name = "gw-multi-ping"
    good, got = ping(name, 20)
    if not good:
        return fail(name, f"{got}/20 echo replies from {A.dst}")
    ok(name, f"20/20 echo replies from {A.dst} with 2 net lcores")

    name = "gw-multi-arp"
    before = read_stats(A.stats, after=time.time())
    dev = subprocess.run(["ip", "-o", "route", "get", A.dst],
                         capture_output=True, text=True).stdout.split()
    dev = dev[dev.index("dev") + 1] if "dev" in dev else None
    if dev is None:
        return fail(name, f"no route to {A.dst} in the namespace")
    subprocess.run(["ip", "neigh", "flush", "dev", dev], check=True)
    good, got = ping(name, 5)
    neigh = subprocess.run(["ip", "neigh", "show", A.dst, "dev", dev],
                           capture_output=True, text=True).stdout.strip()
    mac = before["port"]["mac"].lower() if before else "?"
    after = read_stats(A.stats, after=time.time() + 1.1)
    copies = (sum(lc["arp_copies"] for lc in after["lcores"]) -
              sum(lc["arp_copies"] for lc in before["lcores"]))
    if not good or mac not in neigh.lower():
        return fail(name, f"after flushing the neighbour table: {got}/5 "
                    f"echo replies, neighbour entry '{neigh}', port MAC "
                    f"{mac}")
    if copies < 1:
        return fail(name, "the ARP request was answered but no lcore copied"
                    " it to the other (arp_copies unchanged)")
    ok(name, f"neighbour entry flushed: ARP resolved again ({neigh}), "
       f"5/5 echo replies, {copies} ARP frame(s) copied to the other lcore")


def check_lcores():
    name = "gw-multi-lcores"
    st0 = read_stats(A.stats, after=time.time())
    if st0 is None or st0["net_lcores"] != 2 or len(st0["scan_lcores"]) != 2:
        return fail(name, "sluiced does not run 2 net and 2 scan lcores: "
                    f"{st0 and (st0['net_lcores'], len(st0['scan_lcores']))}")
    idle = st0["total"]["mempool_in_use"]
    check_ping_arp()

    os.makedirs(A.work, exist_ok=True)
    r = subprocess.run([sys.executable, "-B",
                        os.path.join(here, "..", "clients", "source.py"),
                        "--name", "gw-multi-smtp-source", "--dst", A.dst,
                        "--spool-tool", A.spool_tool, "--spool", A.spool,
                        "--work", A.work, "--hostname", A.hostname,
                        "--total", str(A.total), "--sessions",
                        str(A.sessions), "--timeout", "100",
                        "--note", " (2 net lcores, 2 scan lcores)"],
                       capture_output=True, text=True, timeout=180)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    sys.stdout.flush()
    if r.returncode != 0 or "PASS gw-multi-smtp-source" not in r.stdout:
        return fail(name, f"source.py status {r.returncode}; not checking "
                    "the per-lcore counters")

    # Every session has ended (QUIT, the client's close): the counters
    # are final once nothing is live.
    def quiet(s):
        return (s["total"]["nconns"] == 0 and
                all(lc.get("smtp", {}).get("live", 1) == 0
                    for lc in s["lcores"]))
    st = read_stats(A.stats, after=time.time(), deadline=20, want=quiet)
    net, scan = lcores(st)
    d_conns = [lc["smtp"]["conns"] - b["smtp"]["conns"]
               for lc, b in zip(net, st0["lcores"])]
    d_msgs = [lc["smtp"]["messages"] - b["smtp"]["messages"]
              for lc, b in zip(net, st0["lcores"])]
    d_scan = [s["messages"] - b["messages"]
              for s, b in zip(scan, st0["scan_lcores"])]
    steer_out = sum(lc["steer_out"] for lc in net)
    steer_in = sum(lc["steer_in"] for lc in net)
    ring_full = sum(lc["steer_ring_full"] for lc in net)
    problems = []
    if min(d_conns) <= 0:
        problems.append(f"SMTP connections per net lcore {d_conns}")
    if min(d_msgs) <= 0 or sum(d_msgs) != A.total:
        problems.append(f"messages per net lcore {d_msgs} (want each > 0, "
                        f"sum {A.total})")
    if min(d_scan) <= 0 or sum(d_scan) != A.total:
        problems.append(f"messages per scan lcore {d_scan} (want each > 0,"
                        f" sum {A.total})")
    if steer_out <= 0 or steer_in != steer_out or ring_full != 0:
        problems.append(f"steering: {steer_out} frames out, {steer_in} in, "
                        f"{ring_full} lost to a full inbox")
    hf = st["total"]["handoff_full"] - st0["total"]["handoff_full"]
    if hf != 0:
        problems.append(f"{hf} hand-offs refused under normal load")
    if problems:
        return fail(name, "; ".join(problems))
    ok(name, f"connections per net lcore {d_conns}, messages {d_msgs}, "
       f"scanned per scan lcore {d_scan}, {steer_out} frames steered "
       f"between the net lcores ({steer_in} taken from the inboxes, none "
       f"lost)")

    name = "gw-multi-mbufs"
    st = read_stats(A.stats, after=time.time(), deadline=20,
                    want=lambda s: s["total"]["mempool_in_use"] == idle)
    now = st["total"]["mempool_in_use"]
    per = [lc["mempool"]["in_use"] for lc in st["lcores"]]
    if now != idle:
        return fail(name, f"{now} mbufs in use 20 s after the run, {idle} "
                    f"before it (per lcore now {per})")
    ok(name, f"mbufs in use back to the idle {idle} (per lcore {per})")


def message(tag, size):
    """A clean message of about size bytes, CRLF, dot-stuffing not needed
    (no line starts with a dot)."""
    line = (f"{tag} the quick brown fox jumps over the lazy dog, "
            f"sluice overload line\r\n").encode()
    head = (f"From: overload <ov@example.org>\r\nTo: <{tag}@example.net>\r\n"
            f"Subject: overload {tag}\r\nMessage-ID: <{tag}@example.org>\r\n"
            f"\r\n").encode()
    return head + line * max(1, size // len(line))


def transaction(c, tag, size, final=True):
    """MAIL, RCPT, DATA, the message; the final dot only when final.
    Returns None or the unexpected reply."""
    for cmd, want in ((f"MAIL FROM:<ov@example.org>\r\n", 250),
                      (f"RCPT TO:<{tag}@example.net>\r\n", 250),
                      ("DATA\r\n", 354)):
        code, line = c.cmd(cmd)
        if code != want:
            return f"{cmd.strip()}: {line!r}"
    c.send(message(tag, size))
    if final:
        c.send(b".\r\n")
    return None


def unacked(c):
    """Bytes we sent on c that the peer has not acknowledged (SIOCOUTQ)."""
    buf = fcntl.ioctl(c.s.fileno(), termios.TIOCOUTQ, b"\0" * 4)
    return struct.unpack("i", buf)[0]


def check_overload():
    name = "gw-overload"
    n, size = A.sessions, A.size
    st0 = read_stats(A.stats, after=time.time())
    spool = Spool(A.spool_tool, A.spool)
    before = spool.qids()
    conns = []
    for i in range(n):
        c = Conn(A.dst, timeout=60)
        if c.greeting[0] != 220:
            return fail(name, f"session {i}: greeting {c.greeting}")
        code, line = c.cmd("EHLO overload.example.org\r\n")
        if code != 250:
            return fail(name, f"session {i}: EHLO {line!r}")
        bad = transaction(c, f"ov{i}-a", size, final=False)
        if bad:
            return fail(name, f"session {i}: {bad}")
        conns.append(c)
    # Every body is in sluiced (acknowledged: nothing left in our send
    # queues, so no session is still reading its body when the dots come),
    # then the final dots back to back.
    end = time.time() + 60
    while any(unacked(c) for c in conns) and time.time() < end:
        time.sleep(0.05)
    if any(unacked(c) for c in conns):
        return fail(name, "sluiced did not acknowledge every body in 60 s")
    time.sleep(0.2)
    for c in conns:
        c.send(b".\r\n")
    got, accepted, refused, other = [None] * n, {}, [], []
    for i, c in enumerate(conns):
        got[i] = c.reply()
        code, line = got[i]
        m = re.search(rb"queued as ([0-9A-Z]{16})", line)
        if code == 250 and m:
            accepted[f"ov{i}-a"] = m.group(1).decode()
        elif code == 451 and line.startswith(
                b"451 4.3.0 Temporary failure, try again later"):
            refused.append(i)
        else:
            other.append((i, line))
    if other:
        return fail(name, f"replies that are neither 250 nor the hand-off's "
                    f"451 4.3.0: {other[:3]}")
    if not refused or not accepted:
        return fail(name, f"{len(accepted)} 250 and {len(refused)} 451 of "
                    f"{n} final dots at once against a ring of one message "
                    f"per lcore pair: want some of each (the test cannot "
                    f"overload the hand-off here)")
    st = read_stats(A.stats, after=time.time() + 1.1)
    hf = st["total"]["handoff_full"] - st0["total"]["handoff_full"]
    if hf != len(refused):
        return fail(name, f"{len(refused)} sessions got 451 4.3.0, "
                    f"handoff_full grew by {hf}")
    ok(name, f"{n} final dots at once ({size} byte messages, scan ring 2): "
       f"{len(accepted)} got 250, {len(refused)} got 451 4.3.0 Temporary "
       f"failure; total.handoff_full grew by exactly {hf}")

    name = "gw-overload-retry"
    bad = []
    for i in refused:  # one at a time: the ring has room
        err = transaction(conns[i], f"ov{i}-b", size)
        code, line = (None, b"") if err else conns[i].reply()
        m = re.search(rb"queued as ([0-9A-Z]{16})", line)
        if err or code != 250 or not m:
            bad.append((i, err or line))
        else:
            accepted[f"ov{i}-b"] = m.group(1).decode()
    for c in conns:
        c.cmd("QUIT\r\n")
        c.close()
    if bad:
        return fail(name, f"{len(bad)} of {len(refused)} retries after the "
                    f"451 failed, first {bad[0]}")
    ok(name, f"each of the {len(refused)} sessions that got 451 sent the "
       f"message again in the same session: 250")

    name = "gw-overload-spool"
    recs = [r for r in spool.list() if r["queue_id"] not in before]
    by_rcpt = {}
    for r in recs:
        for t in r["to"]:
            by_rcpt.setdefault(t.split("@")[0], []).append(r["queue_id"])
    want = {tag: [q] for tag, q in accepted.items()}
    lost = [t for t in want if by_rcpt.get(t) != want[t]]
    ghosts = [f"ov{i}-a" for i in refused if f"ov{i}-a" in by_rcpt]
    extra = [t for t in by_rcpt if t not in want]
    if lost or ghosts or extra or len(recs) != len(accepted):
        return fail(name, f"{len(accepted)} messages got 250, the spool "
                    f"gained {len(recs)}: missing/different {lost[:3]}, "
                    f"451'd but spooled {ghosts[:3]}, unexpected "
                    f"{extra[:3]}")
    ok(name, f"the spool gained exactly the {len(accepted)} messages that "
       f"got 250 (queue ids as replied), none of the {len(refused)} that "
       f"got 451")


def check_addrcap():
    """smtp.max_connections_per_address counted across the net lcores:
    exactly cap connections from our one address get 220, the next 421.
    (Before dp_addrcap each of 2 lcores allowed cap/2 of the connections
    the steering hash gave it: 30 connections all got 220 only when the
    hash split them exactly 15/15, about one run in seven.)"""
    name = "gw-multi-addrcap"
    cap = A.cap

    def quiet(s):
        return all(lc.get("smtp", {}).get("live", 1) == 0
                   for lc in s["lcores"])
    st0 = read_stats(A.stats, after=time.time(), deadline=20, want=quiet)
    if st0 is None or not quiet(st0):
        return fail(name, "sessions of an earlier check are still live")
    conns, codes = [], []
    try:
        for _ in range(cap):
            c = Conn(A.dst, timeout=15)
            conns.append(c)
            codes.append(c.greeting[0])
        extra = Conn(A.dst, timeout=15)
        last = extra.greeting
        extra.close()
    finally:
        for c in conns:
            c.close()
    st = read_stats(A.stats, after=time.time() + 1.1)
    per = [lc["smtp"]["conns"] - b["smtp"]["conns"]
           for lc, b in zip(st["lcores"], st0["lcores"])]
    if codes.count(220) != cap:
        return fail(name, f"{codes.count(220)} of {cap} connections (the "
                    f"cap) got 220, the others {sorted(set(codes))}; "
                    f"connections per net lcore {per}")
    if last[0] != 421 or b"from your address" not in last[1]:
        return fail(name, f"connection {cap + 1} got {last}, want 421 "
                    f"4.7.0 Too many connections from your address")
    ok(name, f"max_connections_per_address {cap} with 2 net lcores "
       f"(connections per lcore {per}): {cap} got 220, the next "
       f"{last[1].decode(errors='replace')[:60]}")


def main():
    global A
    p = argparse.ArgumentParser()
    for a in ("--dst", "--spool-tool", "--spool", "--stats"):
        p.add_argument(a, required=True)
    p.add_argument("--work", default="/tmp")
    p.add_argument("--hostname", default="")
    p.add_argument("--total", type=int, default=2000)
    p.add_argument("--sessions", type=int, default=40)
    p.add_argument("--size", type=int, default=200000)
    p.add_argument("--cap", type=int, default=30)
    p.add_argument("checks", nargs="+")
    A = p.parse_args()
    for c in A.checks:
        {"lcores": check_lcores, "overload": check_overload,
         "addrcap": check_addrcap}[c]()


if __name__ == "__main__":
    main()
