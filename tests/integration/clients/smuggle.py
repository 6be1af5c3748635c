#!/usr/bin/python3
"""The SMTP smuggling matrix over the wire (raw sockets).

  smuggle.py --dst 198.18.0.1 --spool-tool PATH --spool DIR
             --mode reject|normalize

For every end-of-data variant an attacker hopes a lenient server takes
for "." (bare LF or bare CR around the dot), one message is sent whose
body carries the variant followed by a whole second transaction:

  ...first part<VARIANT>MAIL FROM:<evil@attacker.example>\r\n
  RCPT TO:<x@example.net>\r\nDATA\r\nSubject: smuggled TAG\r\n\r\n
  second part\r\n.\r\n

then QUIT. Never may two messages come out of it. With smtp.bare_lf:
reject (the bundled config) every variant must be refused with 550 5.6.0
and nothing spooled; with normalize it must be one message (250) holding
both parts, stored with CRLF line ends, and no record from evil@. The
control, CRLF "." CRLF, is a real end of data: the second transaction is
a pipelined second message and must be spooled as one (this shows the
check sees a split when there is one). One PASS/FAIL line for the mode.
"""
import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QID, Conn, Spool, fail, ok, strip_received  # noqa: E402

VARIANTS = [
    ("LF.LF", b"\n.\n"), ("LF.CRLF", b"\n.\r\n"), ("CRLF.LF", b"\r\n.\n"),
    ("CR.CR", b"\r.\r"), ("CRLF.CR", b"\r\n.\r"), ("CR.CRLF", b"\r.\r\n"),
    ("LF.CR", b"\n.\r"), ("CR.LF", b"\r.\n"), ("LF.LFCRLF", b"\n.\n\r\n"),
]
CONTROL = ("CRLF.CRLF", b"\r\n.\r\n")
EVIL = "evil@attacker.example"


def one(dst, tag, variant):
    """Send one smuggling attempt; returns (replies after DATA's 354,
    decoded)."""
    c = Conn(dst)
    try:
        c.cmd(b"EHLO smuggler.example.org\r\n")
        c.send(b"MAIL FROM:<first@example.org>\r\nRCPT TO:<x@example.net>"
               b"\r\nDATA\r\n")
        pre = c.replies(3)
        if [r[0] for r in pre] != [250, 250, 354]:
            raise RuntimeError(f"{tag}: MAIL/RCPT/DATA got {pre}")
        c.send(b"From: first@example.org\r\nSubject: smuggle " +
               tag.encode() + b"\r\n\r\nfirst part" + variant +
               b"MAIL FROM:<" + EVIL.encode() + b">\r\nRCPT TO:<x@example"
               b".net>\r\nDATA\r\nSubject: smuggled " + tag.encode() +
               b"\r\n\r\nsecond part\r\n.\r\nQUIT\r\n")
        got = []
        while True:
            code, line = c.reply()
            if code is None:
                break
            got.append(line.decode(errors="replace"))
            if code == 221:
                break
        return got
    finally:
        c.close()


def main():
    p = argparse.ArgumentParser()
    for a in ("--dst", "--spool-tool", "--spool", "--mode"):
        p.add_argument(a, required=True)
    A = p.parse_args()
    name = f"clients-smuggling-{A.mode}"
    sp = Spool(A.spool_tool, A.spool)
    before = sp.qids()
    results = {}
    for tag, v in VARIANTS + [CONTROL]:
        results[tag] = one(A.dst, tag, v)
    time.sleep(0.2)
    new = [r for r in sp.list() if r["queue_id"] not in before]
    by_qid = {r["queue_id"]: r for r in new}
    problems, seen = [], set()
    for tag, v in VARIANTS + [CONTROL]:
        got = results[tag]
        qids = [m.group(1).decode() for m in
                (QID.search(l.encode()) for l in got) if m]
        seen.update(qids)
        recs = [by_qid[q] for q in qids if q in by_qid]
        if len(recs) != len(qids):
            problems.append(f"{tag}: 250 for {qids} but spooled "
                            f"{[r['queue_id'] for r in recs]}")
            continue
        if tag == CONTROL[0]:
            if len(qids) != 2 or recs[1]["from"] != EVIL:
                problems.append(f"control {tag}: replies {got}, want two "
                                f"messages (the second from {EVIL})")
            continue
        if any(r["from"] == EVIL for r in recs) or len(qids) > 1:
            problems.append(f"{tag}: SMUGGLED: {len(qids)} messages, "
                            f"from {[r['from'] for r in recs]}")
            continue
        if A.mode == "reject":
            if qids or not got or not re.match(r"550 5\.6\.0 ", got[0]):
                problems.append(f"{tag}: replies {got}, want 550 5.6.0 "
                                f"and nothing spooled")
        else:
            if len(qids) != 1:
                problems.append(f"{tag}: replies {got}, want one 250")
                continue
            body = strip_received(sp.export(qids[0])) or b""
            if (b"second part" not in body or
                    re.search(rb"(?<!\r)\n|\r(?!\n)", body)):
                problems.append(f"{tag}: the stored message does not hold "
                                f"both parts with CRLF line ends")
    strays = [r["queue_id"] for r in new if r["queue_id"] not in seen]
    if strays:
        problems.append(f"records nobody got a 250 for: {strays}")
    n = len(VARIANTS)
    if problems:
        return fail(name, "; ".join(problems))
    if A.mode == "reject":
        ok(name, f"{n} bare LF/CR end-of-data variants each followed by a "
           f"second MAIL FROM: all 550 5.6.0, nothing spooled; control "
           f"CRLF.CRLF: two messages, as pipelined")
    else:
        ok(name, f"{n} bare LF/CR end-of-data variants each followed by a "
           f"second MAIL FROM: one 250 each, one record holding both parts "
           f"with CRLF line ends, none from {EVIL}; control CRLF.CRLF: two "
           f"messages")


if __name__ == "__main__":
    main()
