#!/usr/bin/python3
"""Postfix smtp-source into sluiced, then the spool against what was sent.

  source.py --name NAME --dst 198.18.0.1 --spool-tool PATH --spool DIR
            --work DIR --hostname H [--total N] [--sessions N] [--note TEXT]

Four message files (plain text with dot-stuffing cases, 8-bit UTF-8 and
Latin-1, a base64 attachment, a ~200 KB base64 attachment) are sent by
four smtp-source processes at once, N messages over S sessions in all
(plain, 8-bit and attachment reuse their connection (-d), the large one
connects per message). -N numbers the recipients, so every message has
its own envelope ("1rcpt@example.net", "2rcpt..."): a duplicate or a
missing message is visible.

What smtp-source puts on the wire is captured first: each file is sent
once to a capture server on 127.0.0.1 in the namespace, and the DATA
bytes, dot-unstuffed, are the expected message (smtp-source appends CRLF
to every line and an empty line at the end).

smtp-source cannot say which message got which reply: without -A it
stops at the first reply that is not 2xx (exit status and "fatal" on
stderr), and -c counts the messages whose final "." was sent. So an exit
status 0 with no output on stderr and a count equal to -m means every
message got 250. The check: every
process exits 0 with no warning, its count is its -m, and the spool holds
exactly that many new records for its sender, one per recipient number,
verdict clean, and nothing else. Byte-exactness: each record's sha256
(over the stored message) must equal the sha256 of the predicted
Received: header (HELO, client, hostname, queue id, recipient, date from
the record's time) + the expected bytes; a record that does not match
is exported and compared without its Received:; a sample of records of
every file is exported and compared in any case.
"""
import argparse
import hashlib
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Spool, fail, ok, strip_received  # noqa: E402

HELO = "client.example.org"
RCPT = "rcpt@example.net"

# name, share of the messages, share of the sessions, reuse connection
KINDS = [("plain", 0.35, 0.30, True), ("eightbit", 0.35, 0.30, True),
         ("attach", 0.28, 0.30, True), ("large", 0.02, 0.10, False)]


def b64_lines(data):
    import base64
    enc = base64.b64encode(data).decode()
    return [enc[i:i + 76] for i in range(0, len(enc), 76)]


def make_files(work):
    """The four message files (LF line ends: smtp-source adds CRLF)."""
    rnd = random.Random(4)
    words = ("gateway spool message durable segment session verdict "
             "recipient sender header body line quick brown fox jumps "
             "over lazy dog mail relay policy").split()
    files = {}

    def hdr(kind, extra=()):
        return [f"From: {kind} sender <{kind}@example.org>",
                f"To: {RCPT}", f"Subject: smtp-source {kind} message",
                f"Message-ID: <{kind}@client.example.org>",
                "Date: Mon, 23 Nov 2026 08:00:00 +0000", *extra]

    text = [" ".join(rnd.choice(words) for _ in range(12))
            for _ in range(40)]
    plain = hdr("plain") + [""] + text[:20] + [
        ".a line starting with a dot", ".", "..", "... three dots",
        " .space then dot", ""] + text[20:]
    files["plain"] = "\n".join(plain).encode() + b"\n"

    eight = hdr("eightbit", ["MIME-Version: 1.0",
                             "Content-Type: text/plain; charset=utf-8",
                             "Content-Transfer-Encoding: 8bit"])
    body = []
    for i in range(60):
        body.append(f"{i:02d} Grüße aus Zürich, naïve café, 日本語のテキスト, "
                    f"Ελληνικά, ёлка".encode())
    body.append(bytes(range(0x80, 0x100)))  # every high byte, no NUL/CR/LF
    files["eightbit"] = b"\n".join(
        [h.encode() for h in eight] + [b""] + body) + b"\n"

    def mime(kind, fname, nbytes):
        data = b"SLUICE-TEST-DATA" + bytes(rnd.getrandbits(8)
                                           for _ in range(nbytes))
        lines = hdr(kind, ["MIME-Version: 1.0",
                           'Content-Type: multipart/mixed; boundary="b-1"'])
        lines += ["", "--b-1", "Content-Type: text/plain", "",
                  f"The {kind} attachment follows.", "", "--b-1",
                  f'Content-Type: application/octet-stream; name="{fname}"',
                  f'Content-Disposition: attachment; filename="{fname}"',
                  "Content-Transfer-Encoding: base64", ""]
        lines += b64_lines(data) + ["--b-1--"]
        return "\n".join(lines).encode() + b"\n"

    files["attach"] = mime("attach", "data.bin", 6000)
    files["large"] = mime("large", "archive.dat", 150000)
    paths = {}
    for k, b in files.items():
        assert b"\r" not in b and b"\0" not in b
        paths[k] = os.path.join(work, f"{k}.msg")
        with open(paths[k], "wb") as f:
            f.write(b)
    return paths


def capture(path):
    """What smtp-source sends for one message file: the DATA content,
    dot-unstuffed (the bytes sluiced must store after its Received:)."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(20)
    port = srv.getsockname()[1]
    got = {}

    def serve():
        c, _ = srv.accept()
        c.settimeout(20)
        f = c.makefile("rb")
        c.sendall(b"220 capture ESMTP\r\n")
        data, indata = [], False
        while True:
            line = f.readline()
            if not line:
                break
            if indata:
                if line == b".\r\n":
                    indata = False
                    c.sendall(b"250 2.0.0 Ok: queued\r\n")
                else:
                    data.append(line[1:] if line.startswith(b".") else line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                indata = True
                c.sendall(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                break
            else:
                c.sendall(b"250 ok\r\n")
        got["data"] = b"".join(data)
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    r = subprocess.run(["smtp-source", "-m", "1", "-F", path, "-M", HELO,
                        "-f", "x@example.org", "-t", RCPT,
                        f"127.0.0.1:{port}"], capture_output=True,
                       timeout=30)
    t.join(30)
    srv.close()
    if r.returncode != 0 or "data" not in got:
        raise RuntimeError(f"capturing what smtp-source sends for {path}: "
                           f"status {r.returncode} {r.stderr[-300:]!r}")
    return got["data"]


def received(qid, rcpt, when, hostname):
    """The Received: header sluiced prepends for a HELO (not EHLO) client
    with one recipient (smtp/body.c smtp_txn_finish)."""
    date = datetime.fromtimestamp(when, timezone.utc)
    d = (f"{date.strftime('%a')}, {date.day} {date.strftime('%b %Y %H:%M:%S')}"
         " +0000")
    return (f"Received: from {HELO} ([198.18.0.2])\r\n\tby {hostname} with "
            f"SMTP id {qid}\r\n\tfor <{rcpt}>; {d}\r\n").encode()


def counter(out):
    """The last value of smtp-source -c's running counter."""
    nums = re.findall(rb"(\d+)", out)
    return int(nums[-1]) if nums else 0


def main():
    p = argparse.ArgumentParser()
    for a in ("--name", "--dst", "--spool-tool", "--spool", "--work",
              "--hostname"):
        p.add_argument(a, required=True)
    p.add_argument("--total", type=int, default=10000)
    p.add_argument("--sessions", type=int, default=100)
    p.add_argument("--note", default="")
    p.add_argument("--timeout", type=float, default=150)
    A = p.parse_args()
    name = A.name
    spool = Spool(A.spool_tool, A.spool)

    paths = make_files(A.work)
    expect = {k: capture(v) for k, v in paths.items()}
    for k, b in expect.items():
        if re.search(rb"(?<!\r)\n|\r(?!\n)", b):
            return fail(name, f"smtp-source puts a bare LF or CR in {k}")

    plan, left_m, left_s = [], A.total, A.sessions
    for i, (k, fm, fs, reuse) in enumerate(KINDS):
        last = i == len(KINDS) - 1
        m = left_m if last else max(1, round(A.total * fm))
        s = left_s if last else max(1, round(A.sessions * fs))
        left_m, left_s = left_m - m, left_s - s
        plan.append((k, m, s, reuse))

    before = spool.qids()
    t0 = time.time()
    procs = []
    for k, m, s, reuse in plan:
        cmd = ["smtp-source", "-c", "-N", "-s", str(s), "-m", str(m),
               "-F", paths[k], "-M", HELO, "-f", f"{k}@example.org",
               "-t", RCPT, f"{A.dst}:25"]
        if reuse:
            cmd.insert(1, "-d")
        procs.append((k, m, s, subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    results, problems = {}, []
    for k, m, s, pr in procs:
        try:
            out, err = pr.communicate(timeout=max(1, A.timeout -
                                                  (time.time() - t0)))
        except subprocess.TimeoutExpired:
            pr.kill()
            out, err = pr.communicate()
            problems.append(f"{k}: smtp-source still running after "
                            f"{A.timeout:.0f}s (killed)")
        n = counter(out)
        results[k] = n
        if pr.returncode != 0 or err.strip():
            problems.append(f"{k}: smtp-source status {pr.returncode}, "
                            f"{err.decode(errors='replace').strip()[-300:]}")
        elif n != m:
            problems.append(f"{k}: {n} DATA completed, want {m}")
    dt = time.time() - t0
    if problems:
        hint = ""
        if any("lost connection" in x for x in problems):
            # smtp-source reads the reply to QUIT without its own error
            # handler: a connection lost there is reported as "while
            # sending message" too.
            hint = (" (smtp-source also says this when the connection is "
                    "lost before the reply to QUIT: see "
                    "clients-hostile-quit)")
        return fail(name, "; ".join(problems) + hint)
    done = sum(results.values())

    t1 = time.time()
    recs = [r for r in spool.list() if r["queue_id"] not in before]
    by_from = {}
    for r in recs:
        by_from.setdefault(r["from"], []).append(r)
    senders = {f"{k}@example.org": k for k, *_ in plan}
    strange = [r for r in recs if r["from"] not in senders]
    if strange:
        return fail(name, f"{len(strange)} records nobody sent, first "
                    f"{strange[0]['queue_id']} from {strange[0]['from']!r}")
    if len(recs) != done or len({r["queue_id"] for r in recs}) != done:
        return fail(name, f"{done} messages got 250, the spool gained "
                    f"{len(recs)} records "
                    f"({len({r['queue_id'] for r in recs})} queue ids)")
    exported = 0
    rng = random.Random(7)
    for k, m, s, _ in plan:
        rs = by_from.get(f"{k}@example.org", [])
        want_to = {f"{i}{RCPT}" for i in range(1, m + 1)}
        got_to = [r["to"][0] if len(r["to"]) == 1 else repr(r["to"])
                  for r in rs]
        if len(rs) != m or set(got_to) != want_to:
            missing = sorted(want_to - set(got_to))[:3]
            dup = len(got_to) - len(set(got_to))
            return fail(name, f"{k}: {len(rs)} records for {m} messages "
                        f"sent ({dup} duplicated, missing e.g. {missing})")
        bad = [r for r in rs if r["verdict"] != "clean"]
        if bad:
            return fail(name, f"{k}: {len(bad)} records with verdict "
                        f"{bad[0]['verdict']!r}, want clean")
        body = expect[k]
        mismatch = []
        for r in rs:
            ts = datetime.strptime(r["received"], "%Y-%m-%dT%H:%M:%S.%fZ")
            sec = int(ts.replace(tzinfo=timezone.utc).timestamp())
            hit = False
            for w in (sec, sec - 1, sec - 2):
                h = received(r["queue_id"], r["to"][0], w, A.hostname)
                if hashlib.sha256(h + body).hexdigest() == r["sha256"]:
                    hit = True
                    break
            if not hit:
                mismatch.append(r)
        sample = rng.sample(rs, min(5, len(rs)))
        for r in mismatch[:20] + sample:
            exp = spool.export(r["queue_id"])
            exported += 1
            if hashlib.sha256(exp).hexdigest() != r["sha256"]:
                return fail(name, f"{k}: {r['queue_id']}: list's sha256 is "
                            f"not the exported bytes'")
            got = strip_received(exp)
            if got != body:
                glen = -1 if got is None else len(got)
                return fail(name, f"{k}: {r['queue_id']} differs from what "
                            f"smtp-source sent ({glen} vs {len(body)} "
                            f"bytes, Received: excluded)")
        if len(mismatch) > 20:
            return fail(name, f"{k}: {len(mismatch)} records whose sha256 "
                        f"is not the predicted Received: + the bytes sent "
                        f"(the first 20 exported are byte-exact: is the "
                        f"Received: header format new?)")
    mb = sum(len(expect[k]) * m for k, m, *_ in plan) / 1e6
    ok(name, f"{done} messages ({mb:.0f} MB) over {A.sessions} sessions in "
       f"{dt:.1f}s ({done / dt:.0f} msg/s){A.note}: every DATA got 250 "
       f"(smtp-source -c, no error), the spool gained exactly {len(recs)} "
       f"records, one per recipient number, verdict clean, all byte-exact "
       f"apart from Received: (sha256 of predicted Received: + bytes sent; "
       f"{exported} exported and compared; check took "
       f"{time.time() - t1:.1f}s)")


if __name__ == "__main__":
    main()
