#!/usr/bin/python3
"""Malformed frames on the wire: sent with scapy sendp on the TAP's kernel
side (the interface holding --src) to the server's MAC, each kind
--repeat times (default 200):

  ip-bad-csum     ICMP echo with a wrong IPv4 header checksum
  tcp-bad-csum    TCP SYN to the echo port with a wrong TCP checksum
  tcp-bad-csum-data  data segment with a wrong checksum
  ip-truncated    IPv4 total length beyond the frame
  ip-short-len    IPv4 total length below the header length
  ip-bad-ihl      IHL 3, and IHL 15 on a 20-byte header
  ip-version      version 6 inside an IPv4 ethertype
  tcp-truncated   frame cut inside the TCP header
  tcp-doff-small  TCP data offset 2 (< 5)
  tcp-doff-large  TCP data offset 15 past the segment's end
  tcp-bad-opts    option lengths 0 and 255, unterminated options
  runt            Ethernet frames of 14, 15, 20 and 33 bytes
  garbage         random bytes after our Ethernet header, IPv4 and ARP types
  arp-bad         ARP with wrong hardware/protocol lengths, truncated ARP
  frag-first      first fragment of a TCP segment (MF, offset 0), never completed
  frag-middle     middle/last fragments (offsets 8..1480), overlapping
  frag-icmp       a complete fragmented ICMP echo (two fragments)

The server must stay alive and answer (ping and an echo round trip after
the barrage), and with stats the mempool's in-use mbuf count must return
to its baseline (within --slack) within --settle seconds: every dropped
frame was freed. The drop counters must have grown by at least the number
of frames that can only be dropped (bad checksums).

PASS/FAIL: crafted-alive, crafted-mbufs (stats only), crafted-counted
(stats only).
"""
import random
import time

import nettest

from scapy.all import (ARP, ICMP, IP, TCP, Ether, Raw, conf, fragment)  # noqa: E402

conf.verb = 0


def frames(a, smac, dmac):
    rng = random.Random(5)
    E = Ether(src=smac, dst=dmac)
    ip = IP(src=a.src, dst=a.dst)
    kinds = {}

    def raw_ip(pkt):  # IPv4 header fields as set, checksum computed on the rest
        return bytes(pkt)

    kinds["ip-bad-csum"] = [E / IP(src=a.src, dst=a.dst, chksum=0x1234) / ICMP(id=7, seq=1)]
    kinds["tcp-bad-csum"] = [E / ip / TCP(sport=40001, dport=7, flags="S", chksum=0xdead)]
    kinds["tcp-bad-csum-data"] = [E / ip / TCP(sport=40001, dport=7, flags="PA", seq=1, ack=1,
                                               chksum=0xbeef) / Raw(b"x" * 100)]
    good_syn = bytes(E / ip / TCP(sport=40002, dport=7, flags="S", seq=1000))
    # total length beyond the frame: rewrite tot_len, recompute IP checksum
    kinds["ip-truncated"] = [E / IP(src=a.src, dst=a.dst, len=1400) / TCP(sport=40003, dport=7, flags="S")]
    kinds["ip-short-len"] = [E / IP(src=a.src, dst=a.dst, len=12) / TCP(sport=40004, dport=7, flags="S")]
    kinds["ip-bad-ihl"] = [E / IP(src=a.src, dst=a.dst, ihl=3) / TCP(sport=40005, dport=7, flags="S"),
                           E / IP(src=a.src, dst=a.dst, ihl=15) / TCP(sport=40005, dport=7, flags="S")]
    kinds["ip-version"] = [E / IP(src=a.src, dst=a.dst, version=6) / TCP(sport=40006, dport=7, flags="S")]
    kinds["tcp-truncated"] = [Ether(good_syn[:14 + 20 + 11])]
    kinds["tcp-doff-small"] = [E / ip / TCP(sport=40007, dport=7, flags="S", dataofs=2)]
    kinds["tcp-doff-large"] = [E / ip / TCP(sport=40008, dport=7, flags="S", dataofs=15)]
    kinds["tcp-bad-opts"] = [
        E / ip / TCP(sport=40009, dport=7, flags="S", dataofs=7, options=[]) / Raw(b"\x02\x00\x05\xb4\x03\x03\x07\x00"),
        E / ip / TCP(sport=40009, dport=7, flags="S", dataofs=7, options=[]) / Raw(b"\x08\xff" + b"\x00" * 6),
        E / ip / TCP(sport=40009, dport=7, flags="S", dataofs=6, options=[]) / Raw(b"\x02\x04\x05"),
    ]
    hdr = bytes(E)[:12]
    kinds["runt"] = [Ether(hdr + b"\x08\x00"), Ether(hdr + b"\x08\x00\x45"),
                     Ether(hdr + b"\x08\x06" + b"\x00" * 6),
                     Ether(hdr + b"\x08\x00" + bytes(ip / TCP())[:19])]
    kinds["garbage"] = [Ether(hdr + t + rng.randbytes(rng.randint(1, 1400)))
                        for t in (b"\x08\x00", b"\x08\x06", b"\x86\xdd", b"\x12\x34") for _ in range(4)]
    kinds["arp-bad"] = [E / ARP(hwlen=8, psrc=a.src, pdst=a.dst, hwsrc=smac),
                        E / ARP(plen=2, psrc=a.src, pdst=a.dst, hwsrc=smac),
                        Ether(bytes(E / ARP(psrc=a.src, pdst=a.dst, hwsrc=smac))[:30])]
    big = ip / TCP(sport=40010, dport=7, flags="PA", seq=5, ack=5) / Raw(rng.randbytes(3000))
    fr = fragment(big, fragsize=1480)
    kinds["frag-first"] = [E / fr[0]]
    kinds["frag-middle"] = [E / f for f in fr[1:]] + [
        E / IP(src=a.src, dst=a.dst, proto=6, flags="MF", frag=1, id=999) / Raw(b"y" * 64)]
    ping = ip / ICMP(id=77, seq=1) / Raw(b"z" * 2000)
    kinds["frag-icmp"] = [E / f for f in fragment(ping, fragsize=1000)]
    return kinds


def alive(a):
    out = nettest.sh(["ping", "-c", "3", "-i", "0.2", "-W", "2", a.dst], check=False)
    if " 0% packet loss" not in out and "3 received" not in out:
        return False, "ping: " + (out.strip().splitlines()[-2] if out.strip() else "no output")
    try:
        nettest.echo_roundtrip(a.dst, payload=b"still here\n", timeout=5.0, src=a.src)
    except (OSError, RuntimeError) as e:
        return False, "echo: %s" % e
    return True, "ping and echo answered"


def main():
    ap = nettest.common_args(__doc__)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--settle", type=float, default=5.0)
    ap.add_argument("--slack", type=int, default=0)
    a = ap.parse_args()
    rep = nettest.Report(a.name)
    stats = nettest.Stats(a.stats)
    iface = nettest.iface_of(a.src)
    dmac = nettest.mac_of(a.dst)
    from scapy.all import get_if_hwaddr, sendp
    smac = get_if_hwaddr(iface)
    kinds = frames(a, smac, dmac)

    base = None
    if stats.enabled:
        ok, base = stats.wait_for(lambda s: True, 2.0)
    wire = []
    for k, lst in kinds.items():
        for f in lst:
            wire.append(bytes(f))
    t0 = time.monotonic()
    sock = conf.L2socket(iface=iface)
    try:  # paced: the TAP's queue (txqueuelen 1000) must not overflow
        k = 0
        for _ in range(a.repeat):
            for b in wire:
                sock.send(b)
                k += 1
                if k % 100 == 0:
                    time.sleep(0.01)
    finally:
        sock.close()
    n = len(wire) * a.repeat
    t_send = time.monotonic() - t0
    ok, why = alive(a)
    rep.check("crafted-alive", ok, "%d malformed frames (%d kinds) in %.1fs; %s"
              % (n, len(kinds), t_send, why))
    if stats.enabled:
        b0 = base.get("mbuf_in_use")
        ok, snap = stats.wait_for(lambda s: s.get("mbuf_in_use") <= b0 + a.slack, a.settle)
        rep.check("crafted-mbufs", ok, "mempool in use %d before, %d after %.0fs settle"
                  % (b0, snap.get("mbuf_in_use"), a.settle))
        # Frames that can only be dropped, by the counter that must see them.
        R = a.repeat
        nfrag = sum(len(kinds[k]) for k in ("frag-first", "frag-middle", "frag-icmp"))
        want = [("net.drop.csum", R * len(kinds["ip-bad-csum"])),
                ("net.drop.frag", R * nfrag),
                ("tcp.bad_csum", R * (len(kinds["tcp-bad-csum"]) + len(kinds["tcp-bad-csum-data"]))),
                ("tcp.bad_hdr", R * (len(kinds["tcp-doff-small"]) + len(kinds["tcp-doff-large"]))),
                ("net.drops", R * (nfrag + len(kinds["ip-bad-csum"]) + len(kinds["ip-truncated"])
                                   + len(kinds["ip-short-len"]) + len(kinds["ip-bad-ihl"])
                                   + len(kinds["ip-version"]) + len(kinds["tcp-truncated"])))]
        got = [(k, nettest.delta(base, snap, k), w) for k, w in want]
        rep.check("crafted-counted", all(d >= w for _, d, w in got),
                  ", ".join("%s +%d (>= %d)" % g for g in got))
    rep.exit()


if __name__ == "__main__":
    main()
