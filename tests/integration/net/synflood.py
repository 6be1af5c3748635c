#!/usr/bin/python3
"""SYN flood from a second namespace while real clients connect.

Run in the client namespace (sluice-test). Builds namespace sluice-flood
joined to this one by a veth pair (198.18.1.1/24 here, 198.18.1.2/24
there), turns forwarding on here and routes the spoofed sources,
198.18.128.0/17, towards sluice-flood, where no one owns them: the
server's SYN-ACKs are forwarded there and vanish, so no RST ever comes
back and every half-open connection stays half-open. The server needs a
route back to 198.18.128.0/17: sluiced through its gateway 198.18.0.2
(this namespace), the kernel reference through its default route.

A sender in sluice-flood (this file, --sender) writes --count SYNs
(default 100,000) through a raw socket at --rate per second (default
10,000, bounded by --flood-timeout) to the echo port, random sources and
ports. Meanwhile this process makes --real (50) echo round trips (new
connection, 64 bytes, echo, half-close, EOF), spread over the flood; all
must succeed.

With stats: syn_cookies_sent and syn_cookies_ok must have grown.
PASS/FAIL: synflood. Deletes the namespace, route and veth on every exit.
"""
import os
import random
import socket
import struct
import subprocess
import sys
import time

import nettest

FLOOD_NS = "sluice-flood"
SPOOF_NET = "198.18.128.0/17"


def build_syns(count, dst, dport, seed):
    rng = random.Random(seed)
    dst_b = socket.inet_aton(dst)
    out = []
    base = struct.unpack("!I", socket.inet_aton(SPOOF_NET.split("/")[0]))[0]
    for _ in range(count):
        src_b = struct.pack("!I", base + rng.randrange(1, (1 << 15) - 1))
        sport = rng.randrange(1024, 65535)
        opts = struct.pack("!BBH", 2, 4, 1460) + b"\x01\x01\x04\x02"  # MSS, NOP NOP SACK-ok
        tcp = struct.pack("!HHIIBBHHH", sport, dport, rng.getrandbits(32), 0,
                          (5 + len(opts) // 4) << 4, 0x02, 64240, 0, 0) + opts
        ph = src_b + dst_b + struct.pack("!BBH", 0, 6, len(tcp))
        c = nettest.csum(ph + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), rng.getrandbits(16),
                         0, 64, 6, 0, src_b, dst_b)
        out.append(ip + tcp)
    return out


def sender(a):
    pkts = build_syns(a.count, a.dst, nettest.ECHO_PORT, a.seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    batch = 200
    t0 = time.monotonic()
    sent = errs = 0
    print("ready", flush=True)
    for i in range(0, len(pkts), batch):
        for p in pkts[i:i + batch]:
            try:
                s.sendto(p, (a.dst, 0))
                sent += 1
            except OSError:
                errs += 1
        due = t0 + (i + batch) / a.rate
        now = time.monotonic()
        if now - t0 > a.flood_timeout:
            break
        if due > now:
            time.sleep(due - now)
    print("sent %d errors %d seconds %.2f" % (sent, errs, time.monotonic() - t0), flush=True)


def sh(*cmd):
    nettest.sh(list(cmd))


def setup(a):
    teardown(a)
    sh("ip", "netns", "add", FLOOD_NS)
    sh("ip", "link", "add", "sfl0", "type", "veth", "peer", "name", "sfl1", "netns", FLOOD_NS)
    sh("ip", "addr", "add", "198.18.1.1/24", "dev", "sfl0")
    sh("ip", "link", "set", "sfl0", "up")
    sh("ip", "-n", FLOOD_NS, "addr", "add", "198.18.1.2/24", "dev", "sfl1")
    sh("ip", "-n", FLOOD_NS, "link", "set", "sfl1", "up")
    sh("ip", "-n", FLOOD_NS, "link", "set", "lo", "up")
    sh("ip", "-n", FLOOD_NS, "route", "add", "default", "via", "198.18.1.1")
    sh("ip", "route", "add", SPOOF_NET, "via", "198.18.1.2")
    for k in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
              "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf.sfl0.rp_filter=0"):
        sh("sysctl", "-qw", k)


def teardown(a):
    subprocess.run(["ip", "route", "del", SPOOF_NET], capture_output=True)
    subprocess.run(["ip", "link", "del", "sfl0"], capture_output=True)
    subprocess.run(["ip", "netns", "del", FLOOD_NS], capture_output=True)


def main():
    ap = nettest.common_args(__doc__)
    ap.add_argument("--sender", action="store_true")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--rate", type=float, default=10000.0)
    ap.add_argument("--flood-timeout", type=float, default=15.0)
    ap.add_argument("--real", type=int, default=50)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    if a.sender:
        sender(a)
        return
    rep = nettest.Report(a.name)
    stats = nettest.Stats(a.stats)
    proc = None
    try:
        setup(a)
        before = stats.fresh() if stats.enabled else None
        proc = subprocess.Popen(
            ["ip", "netns", "exec", FLOOD_NS, sys.executable, os.path.abspath(__file__),
             "--sender", "--dst", a.dst, "--count", str(a.count), "--rate", str(a.rate),
             "--flood-timeout", str(a.flood_timeout), "--seed", str(a.seed)],
            stdout=subprocess.PIPE, text=True)
        if proc.stdout.readline().strip() != "ready":  # packets built
            raise RuntimeError("flood sender did not start")
        t0 = time.monotonic()
        span = min(a.count / a.rate, a.flood_timeout) * 0.8
        ok_rt, errs, worst = 0, [], 0.0
        for i in range(a.real):
            due = t0 + 0.5 + span * i / a.real
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            t = time.monotonic()
            try:
                nettest.echo_roundtrip(a.dst, payload=b"%063d\n" % i, timeout=5.0, src=a.src)
                ok_rt += 1
            except (OSError, RuntimeError) as e:
                errs.append("round trip %d: %s" % (i, e))
            worst = max(worst, time.monotonic() - t)
        out, _ = proc.communicate(timeout=a.flood_timeout + 30)
        flood = out.strip().splitlines()[-1] if out.strip() else "sender printed nothing"
        flood_ok = proc.returncode == 0 and flood.startswith("sent")
        ok = flood_ok and ok_rt == a.real
        detail = "flood: %s; real echo round trips %d/%d during it (slowest %.2fs)" % (
            flood, ok_rt, a.real, worst)
        if errs:
            detail += "; first error: " + errs[0]
        if before is not None:
            after = stats.fresh()
            cs = nettest.delta(before, after, "tcp.syn_cookies_sent")
            cok = nettest.delta(before, after, "tcp.syn_cookies_ok")
            ok = ok and cs > 0 and cok > 0
            detail += "; sluiced syn_cookies_sent +%d, syn_cookies_ok +%d" % (cs, cok)
        rep.check("synflood", ok, detail)
    except (OSError, RuntimeError, subprocess.SubprocessError, KeyError) as e:
        rep.check("synflood", False, str(e))
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        teardown(a)
    rep.exit()


if __name__ == "__main__":
    main()
