#!/usr/bin/python3
"""Out-of-order flood on one hand-driven connection to the discard port.

The kernel knows nothing of this connection, so an nft rule in this
namespace drops the RSTs it would send from our source port. We open the
connection with raw sockets (SYN, SYN-ACK read from an AF_PACKET socket,
ACK), leave a --hole byte hole at the start of the stream, and send
--segments (default 4,000) 8-byte segments beyond it, each separated from
the next by a 4-byte gap so that none can merge with another: every one
is a distinct out-of-order packet, all inside the advertised window.

Checks:
  ooo-flood-bounded  (stats) ooo_dropped grew by at least
                     segments - ooo_max, and the mempool's in-use count
                     stays below baseline + ooo_max + --slack while the
                     segments are held.
  ooo-flood-fill     the hole is filled: the ACK for it must cover the
                     first out-of-order segment too (it was kept), i.e.
                     ack = ISN + 1 + hole + 8.
  ooo-flood-release  (stats) after an in-window RST aborts the
                     connection, the connection count and the in-use
                     mbuf count return to their baselines.
ooo_max comes from --ooo-max (./run reads it from the configuration;
default 64, tcpstack/tcp.h). Removes its nft table on every exit.
"""
import os
import random
import socket
import struct
import subprocess
import time

import nettest
from nettest import TH_ACK, TH_PSH, TH_RST, TH_SYN

TABLE = "sluice_itest_ooo"
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
OUR_ID = 0x5A5A


def nft(*cmd, check=True):
    r = subprocess.run(["nft"] + list(cmd), capture_output=True, text=True, timeout=10)
    if check and r.returncode:
        raise RuntimeError("nft %s: %s" % (" ".join(cmd), r.stderr.strip()))


class Wire:
    def __init__(self, a, sport):
        self.a, self.sport = a, sport
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.rx.bind((nettest.iface_of(a.src), ETH_P_IP))
        self.rx.setblocking(False)

    def send(self, seq, ack, flags, payload=b"", opts=b"", win=65535):
        self.tx.sendto(nettest.ip_tcp(self.a.src, self.a.dst, self.sport, nettest.DISCARD_PORT,
                                      seq, ack, flags, win, payload, opts, ipid=OUR_ID),
                       (self.a.dst, 0))

    def recv(self, timeout, pred=lambda p: True):
        """Segments from the server to our port until pred(seg) or timeout;
        returns the matching segment or None (others are discarded)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                frame, addr = self.rx.recvfrom(65536)
            except BlockingIOError:
                time.sleep(0.002)
                continue
            if addr[2] == PACKET_OUTGOING:
                continue
            p = nettest.parse_tcp(frame)
            if (p and p[0] == self.a.dst and p[2] == nettest.DISCARD_PORT
                    and p[3] == self.sport and pred(p)):
                return p
        return None

    def close(self):
        self.tx.close()
        self.rx.close()


def wscale_of(opts):
    i = 0
    while i < len(opts):
        k = opts[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if k == 3 and opts[i + 1] == 3:
            return opts[i + 2]
        i += opts[i + 1]
    return None


def main():
    ap = nettest.common_args(__doc__)
    ap.add_argument("--segments", type=int, default=4000)
    ap.add_argument("--hole", type=int, default=1000)
    ap.add_argument("--ooo-max", type=int, default=64)
    ap.add_argument("--slack", type=int, default=64)
    a = ap.parse_args()
    rep = nettest.Report(a.name)
    stats = nettest.Stats(a.stats)
    rng = random.Random(os.getpid())
    sport = rng.randrange(20000, 30000)
    nft("delete", "table", "inet", TABLE, check=False)
    wire = None
    try:
        nft("add", "table", "inet", TABLE)
        nft("add", "chain", "inet", TABLE, "out", "{ type filter hook output priority -10 ; }")
        # the kernel's RSTs, not ours (our raw packets carry IP id OUR_ID)
        nft("add", "rule", "inet", TABLE, "out", "ip", "daddr", a.dst, "ip", "id", "!=",
            str(OUR_ID), "tcp", "sport", str(sport), "tcp", "flags", "&", "rst", "==", "rst",
            "counter", "drop")
        base = stats.fresh() if stats.enabled else None
        if base is not None:  # a quiet baseline: two equal readings
            ok, base = stats.wait_for(lambda s: True, 1.0)
        wire = Wire(a, sport)
        isn = rng.getrandbits(32)
        # MSS 1460, window scale 7 (the server may then open a window > 64 KiB)
        syn_opts = struct.pack("!BBH", 2, 4, 1460) + b"\x01\x03\x03\x07"
        synack = None
        for _ in range(3):
            wire.send(isn, 0, TH_SYN, opts=syn_opts, win=65535)
            synack = wire.recv(2.0, lambda p: p[6] & (TH_SYN | TH_ACK) == TH_SYN | TH_ACK)
            if synack:
                break
        if not synack or synack[5] != (isn + 1) & 0xFFFFFFFF:
            raise RuntimeError("no SYN-ACK for our SYN: %r" % (synack,))
        rcv = (synack[4] + 1) & 0xFFFFFFFF
        ws = wscale_of(synack[9])
        window = synack[7] << (ws or 0) if ws is not None else synack[7]
        snd0 = (isn + 1) & 0xFFFFFFFF
        wire.send(snd0, rcv, TH_ACK, win=65535 >> 7)
        time.sleep(0.1)
        spacing = 12
        n = min(a.segments, (window - a.hole - 8) // spacing)
        if n < 2 * a.ooo_max:
            raise RuntimeError("window %d too small for the flood (%d segments)" % (window, n))
        t0 = time.monotonic()
        for i in range(n):  # paced: the TAP's queue (txqueuelen 1000) must not overflow
            wire.send(snd0 + a.hole + i * spacing, rcv, TH_ACK | TH_PSH,
                      payload=struct.pack("!Q", i), win=65535 >> 7)
            if i % 100 == 99:
                time.sleep(0.01)
        t_send = time.monotonic() - t0
        if stats.enabled:
            time.sleep(0.2)
            held = stats.fresh()
            limit = base.get("mbuf_in_use") + a.ooo_max + a.slack
            dropped = nettest.delta(base, held, "tcp.ooo_dropped")
            queued = nettest.delta(base, held, "tcp.ooo_queued")
            ok = dropped >= n - a.ooo_max and held.get("mbuf_in_use") <= limit
            rep.check("ooo-flood-bounded", ok,
                      "%d segments beyond a %d-byte hole (window %d) in %.2fs; ooo_queued +%d, "
                      "ooo_dropped +%d (>= %d); mbufs in use %d -> %d (bound %d)"
                      % (n, a.hole, window, t_send, queued, dropped, n - a.ooo_max,
                         base.get("mbuf_in_use"), held.get("mbuf_in_use"), limit))
        # fill the hole: the ACK must cover the first held segment
        want = (snd0 + a.hole + 8) & 0xFFFFFFFF
        got = None
        for _ in range(3):
            wire.send(snd0, rcv, TH_ACK | TH_PSH, payload=b"h" * a.hole, win=65535 >> 7)
            got = wire.recv(1.5, lambda p: p[6] & TH_ACK and p[5] == want)
            if got:
                break
        rep.check("ooo-flood-fill", got is not None,
                  "ACK %d after the hole was filled (want ISN+1+%d+8: the first "
                  "out-of-order segment was kept)" % (
                      (got[5] - snd0) & 0xFFFFFFFF if got else -1, a.hole))
        # abort: RST at the right sequence number (RFC 5961: exactly rcv.nxt)
        wire.send(want, 0, TH_RST, win=0)
        if stats.enabled:
            b_mb = base.get("mbuf_in_use")
            b_est = base.get("established")
            ok, snap = stats.wait_for(lambda s: s.get("mbuf_in_use") <= b_mb + 2
                                      and s.get("established") <= b_est, 5.0)
            rep.check("ooo-flood-release", ok,
                      "after RST: mbufs in use %d (baseline %d), established %d (baseline %d)"
                      % (snap.get("mbuf_in_use"), b_mb, snap.get("established"), b_est))
    except (OSError, RuntimeError, KeyError) as e:
        rep.check("ooo-flood", False, str(e))
    finally:
        if wire:
            wire.close()
        nft("delete", "table", "inet", TABLE, check=False)
    rep.exit()


if __name__ == "__main__":
    main()
