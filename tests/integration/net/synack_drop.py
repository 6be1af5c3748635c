#!/usr/bin/python3
"""A lost SYN-ACK: an nft rule in the client namespace drops the first
SYN-ACK the server sends to one client port. The connect must still
succeed (the server retransmits its SYN-ACK, or answers the client's
retransmitted SYN with the same ISN), the echo must work, and the rule's
counter must show exactly one packet dropped.

The rule is `quota until L bytes` where L is the length of a SYN-ACK
measured on a first, undisturbed connection (nft's quota matches while
consumed <= L: one SYN-ACK of length L, never a second).

With stats: sluiced's retrans_segs + syn_dup must have grown.
PASS/FAIL: synack-drop. Removes its nft table on every exit.
"""
import json
import socket
import subprocess
import time

import nettest

TABLE = "sluice_itest_synack"


def nft(cmd, check=True):
    r = subprocess.run(["nft"] + cmd, capture_output=True, text=True, timeout=10)
    if check and r.returncode:
        raise RuntimeError("nft %s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


def rule_counter(handle_comment):
    doc = json.loads(nft(["-j", "list", "table", "inet", TABLE]))
    for item in doc["nftables"]:
        r = item.get("rule")
        if not r or r.get("comment") != handle_comment:
            continue
        for e in r["expr"]:
            if "counter" in e:
                return e["counter"]["packets"], e["counter"]["bytes"]
    raise RuntimeError("rule %s not found" % handle_comment)


def synack_match(a, port):
    return ["ip", "saddr", a.dst, "tcp", "sport", str(nettest.ECHO_PORT),
            "tcp", "dport", str(port), "tcp", "flags", "&", "(syn|ack)", "==", "syn|ack"]


def free_port(src):
    s = socket.socket()
    s.bind((src, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    ap = nettest.common_args(__doc__)
    a = ap.parse_args()
    rep = nettest.Report(a.name)
    stats = nettest.Stats(a.stats)
    nft(["delete", "table", "inet", TABLE], check=False)
    try:
        nft(["add", "table", "inet", TABLE])
        nft(["add", "chain", "inet", TABLE, "in",
             "{ type filter hook input priority -10 ; }"])
        # 1. measure a SYN-ACK
        p1 = free_port(a.src)
        nft(["add", "rule", "inet", TABLE, "in"] + synack_match(a, p1)
            + ["counter", "comment", '"measure"'])
        s = socket.socket()
        s.bind((a.src, p1))
        s.settimeout(5)
        s.connect((a.dst, nettest.ECHO_PORT))
        s.close()
        pk, length = rule_counter("measure")
        if pk != 1:
            raise RuntimeError("measuring connection saw %d SYN-ACKs, expected 1" % pk)
        # 2. drop the first SYN-ACK to a fresh port
        p2 = free_port(a.src)
        nft(["add", "rule", "inet", TABLE, "in"] + synack_match(a, p2)
            + ["quota", "until", "%d" % length, "bytes", "counter", "drop",
               "comment", '"drop"'])
        before = stats.fresh() if stats.enabled else None
        t0 = time.monotonic()
        s = socket.socket()
        s.bind((a.src, p2))
        s.settimeout(10)
        s.connect((a.dst, nettest.ECHO_PORT))
        t_conn = time.monotonic() - t0
        s.sendall(b"after a lost SYN-ACK\n")
        got = b""
        while len(got) < 21:
            b = s.recv(100)
            if not b:
                break
            got += b
        s.shutdown(socket.SHUT_WR)
        eof = s.recv(1) == b""
        s.close()
        dropped, _ = rule_counter("drop")
        ok = dropped == 1 and got == b"after a lost SYN-ACK\n" and eof and t_conn > 0.15
        detail = ("SYN-ACK (%d bytes) dropped %d time(s); connected after %.2fs; echo %s"
                  % (length, dropped, t_conn, "ok" if got == b"after a lost SYN-ACK\n" else repr(got)))
        if before is not None:
            after = stats.fresh()
            rt = nettest.delta(before, after, "tcp.retrans_segs")
            dup = nettest.delta(before, after, "tcp.syn_dup")
            ok = ok and rt + dup >= 1
            detail += "; sluiced retrans_segs +%d, syn_dup +%d" % (rt, dup)
        rep.check("synack-drop", ok, detail)
    except (OSError, RuntimeError, KeyError) as e:
        rep.check("synack-drop", False, str(e))
    finally:
        nft(["delete", "table", "inet", TABLE], check=False)
    rep.exit()


if __name__ == "__main__":
    main()
