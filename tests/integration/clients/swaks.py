#!/usr/bin/python3
"""swaks (and one smtplib) dialogs against sluiced, checked in the spool.

  swaks.py --dst 198.18.0.1 --spool-tool PATH --spool DIR --samples DIR
           --work DIR [CHECK...]

Checks (one PASS/FAIL line each, named clients-swaks-CHECK):
  plain     --data FILE: 250 queued as QID, spooled once, verdict clean,
            byte-exact apart from Received: (swaks sends LF as CRLF)
  pipeline  --pipeline, two recipients: MAIL, RCPT, RCPT, DATA go out
            before the first reply; 250; one record with both recipients
  attach    --attach of a 20 KB binary (report.pdf): 250; the attachment
            decoded from the spooled message is the file
  eicar     EICAR (decoded from config/samples/eicar.eml) as a base64
            attachment, and as plain text in the body: 550 5.7.1, nothing
            spooled
  exe       setup.exe (decoded from config/samples/exe.eml) attached: 250;
            the record's verdict is "attachment" and it carries the
            bundled inbound policy's strip and header actions
  relay     to user@external.example.com from 198.18.0.2: 554 5.7.1
            Relay access denied, nothing spooled
  oversize  a 21 MiB body (limit 20 MiB): 552 5.3.4 after the data,
            nothing spooled; smtplib MAIL FROM SIZE=above the limit:
            552 5.3.4 at once, SIZE=the limit: 250
  abort     --quit-after RCPT (221) and --drop-after DATA (connection
            dropped mid-DATA): nothing spooled
"""
import argparse
import email
import email.policy
import os
import re
import smtplib
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QID, Spool, crlf, fail, ok, strip_received  # noqa: E402

A = None
SP = None
FROM = "alice@example.org"
TO = "bob@example.net"


def swaks(*args, timeout=120):
    """Run swaks; (exit status, server reply lines, client lines)."""
    cmd = ["swaks", "--server", A.dst, "--port", "25", "--helo",
           "swaks.example.org", "--from", FROM, *args]
    r = subprocess.run(cmd, capture_output=True, timeout=timeout)
    out = r.stdout.decode(errors="replace").splitlines()
    srv = [l[4:] for l in out if l.startswith("<-  ") or
           l.startswith("<** ")]
    cli = [l[4:] for l in out if l.startswith(" -> ") or
           l.startswith("**> ")]
    return r.returncode, srv, cli, out


def final(srv):
    """The last reply before QUIT's 221 (the answer to the data)."""
    rs = [l for l in srv if not l.startswith("221")]
    return rs[-1] if rs else ""


def qid_of(line):
    m = QID.search(line.encode())
    return m.group(1).decode() if m else None


def one_record(name, qid, before):
    """The record of qid, checking it is the only new one."""
    recs = [r for r in SP.list() if r["queue_id"] not in before]
    if [r["queue_id"] for r in recs] != [qid]:
        fail(name, f"250 queued as {qid}, but the spool gained "
             f"{[r['queue_id'] for r in recs]}")
        return None
    return recs[0]


def check_plain():
    name = "clients-swaks-plain"
    path = os.path.join(A.work, "swaks-plain.eml")
    raw = (b"From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\n"
           b"Subject: swaks plain\nMessage-ID: <swaks-plain@example.org>\n"
           b"\nHello Bob,\n.a line with a leading dot\n.\nregards\n")
    with open(path, "wb") as f:
        f.write(raw)
    before = SP.qids()
    rc, srv, _, out = swaks("--to", TO, "--data", f"@{path}")
    q = qid_of(final(srv))
    if rc != 0 or not final(srv).startswith("250") or not q:
        return fail(name, f"swaks status {rc}, reply {final(srv)!r}")
    rec = one_record(name, q, before)
    if rec is None:
        return
    if rec["from"] != FROM or rec["to"] != [TO] or rec["verdict"] != "clean":
        return fail(name, f"record: from {rec['from']} to {rec['to']} "
                    f"verdict {rec['verdict']}")
    # swaks ends the data with CRLF "." CRLF after the file's own last
    # line end: one empty line more.
    want = crlf(raw) + b"\r\n"
    body = strip_received(SP.export(q))
    if body != want:
        return fail(name, f"spooled bytes differ from what swaks sent "
                    f"({None if body is None else len(body)} vs "
                    f"{len(want)})")
    ok(name, f"{final(srv)}; spooled once, verdict clean, byte-exact apart "
       f"from Received: (dot-stuffed lines restored)")


def check_pipeline():
    name = "clients-swaks-pipeline"
    before = SP.qids()
    rc, srv, _, out = swaks("--to", f"{TO},carol@example.net", "--pipeline",
                            "--body", "pipelined by swaks")
    # swaks prints the commands it pipelines, then the replies.
    seq = [l[:4] for l in out if l[:4] in (" -> ", "<-  ", "<** ")]
    i = next((k for k, l in enumerate(out) if l.startswith(" -> MAIL")), -1)
    burst = out[i:i + 4] if i >= 0 else []
    piped = [l[4:8] for l in burst] == ["MAIL", "RCPT", "RCPT", "DATA"]
    q = qid_of(final(srv))
    if rc != 0 or not q:
        return fail(name, f"swaks status {rc}, reply {final(srv)!r}")
    if not piped:
        return fail(name, f"MAIL, RCPT, RCPT, DATA did not go out in one "
                    f"burst: {burst} ({len(seq)} lines)")
    rec = one_record(name, q, before)
    if rec is None:
        return
    if rec["to"] != [TO, "carol@example.net"]:
        return fail(name, f"recipients in the spool: {rec['to']}")
    if b"pipelined by swaks" not in SP.export(q):
        return fail(name, "the body is not in the spooled message")
    ok(name, f"MAIL, RCPT, RCPT, DATA in one burst; {final(srv)}; one "
       f"record with both recipients")


def attachment(raw, fname):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        if part.get_filename() == fname:
            return part.get_payload(decode=True)
    return None


def check_attach():
    name = "clients-swaks-attach"
    path = os.path.join(A.work, "report.pdf")
    data = b"SLUICE-ATTACHMENT\n" + bytes((i * 7919 + 13) % 251
                                         for i in range(20000))
    with open(path, "wb") as f:
        f.write(data)
    before = SP.qids()
    rc, srv, _, _ = swaks("--to", TO, "--attach-type", "application/pdf",
                          "--attach-name", "report.pdf", "--attach",
                          f"@{path}", "--suppress-data")
    q = qid_of(final(srv))
    if rc != 0 or not q:
        return fail(name, f"swaks status {rc}, reply {final(srv)!r}")
    rec = one_record(name, q, before)
    if rec is None:
        return
    got = attachment(strip_received(SP.export(q)) or b"", "report.pdf")
    if rec["verdict"] != "clean":
        return fail(name, f"verdict {rec['verdict']!r}, want clean")
    if got != data:
        return fail(name, "the attachment decoded from the spool is not "
                    f"the file ({None if got is None else len(got)} vs "
                    f"{len(data)} bytes)")
    ok(name, f"{final(srv)}; verdict clean; the {len(data)}-byte attachment "
       f"decoded from the spooled message is the file")


def sample_attachment(sample):
    """The first attachment of a sample message, decoded."""
    with open(os.path.join(A.samples, sample), "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.default)
    for part in msg.iter_attachments():
        return part.get_payload(decode=True)
    raise RuntimeError(f"no attachment in {sample}")


def check_eicar():
    name = "clients-swaks-eicar"
    eicar = sample_attachment("eicar.eml")
    path = os.path.join(A.work, "eicar.com")
    with open(path, "wb") as f:
        f.write(eicar)
    before = SP.qids()
    rc1, srv1, _, _ = swaks("--to", TO, "--attach-name", "eicar.com",
                            "--attach", f"@{path}")
    rc2, srv2, _, _ = swaks("--to", TO, "--body", eicar.decode().strip())
    after = SP.qids()
    r1, r2 = final(srv1), final(srv2)
    for how, r in (("attached", r1), ("in the body", r2)):
        if not re.match(r"550 5\.7\.1 ", r):
            return fail(name, f"EICAR {how}: {r!r}, want 550 5.7.1")
    if after != before:
        return fail(name, f"the spool gained {sorted(after - before)}")
    ok(name, f"attached (base64): {r1}; in the body: {r2}; nothing spooled")


def check_exe():
    name = "clients-swaks-exe"
    exe = sample_attachment("exe.eml")
    path = os.path.join(A.work, "setup.exe")
    with open(path, "wb") as f:
        f.write(exe)
    before = SP.qids()
    rc, srv, _, _ = swaks("--to", TO, "--attach-name", "setup.exe",
                          "--attach", f"@{path}")
    q = qid_of(final(srv))
    if rc != 0 or not q:
        return fail(name, f"swaks status {rc}, reply {final(srv)!r}")
    rec = one_record(name, q, before)
    if rec is None:
        return
    show = SP.show(q)
    acts = [l.split(None, 1)[1] for l in show.splitlines()
            if l.startswith("also:")]
    strip = any(a.startswith("strip") and "setup.exe" in a for a in acts)
    header = any(a.startswith("header X-Sluice-Attachment-Removed:")
                 for a in acts)
    if rec["verdict"] != "attachment" or not strip or not header:
        return fail(name, f"verdict {rec['verdict']!r}, actions {acts}; "
                    f"want attachment with strip and header")
    stored = SP.export(q)
    applied = b"X-Sluice-Attachment-Removed:" in stored.split(b"\r\n\r\n")[0]
    if applied and attachment(stored, "setup.exe") == exe:
        return fail(name, "the header was added but setup.exe is still "
                    "in the stored message")
    ok(name, f"{final(srv)}; spooled with verdict attachment, actions "
       f"strip + header ({'applied to' if applied else 'recorded; not yet applied to'}"
       f" the stored bytes)")


def check_relay():
    name = "clients-swaks-relay"
    before = SP.qids()
    rc, srv, _, _ = swaks("--to", "user@external.example.com")
    after = SP.qids()
    bad = [l for l in srv if l.startswith("554")]
    if not bad or not bad[0].startswith("554 5.7.1 Relay access denied"):
        return fail(name, f"replies {srv}, want 554 5.7.1 Relay access "
                    f"denied")
    if rc == 0 or after != before:
        return fail(name, f"swaks status {rc}; spool gained "
                    f"{sorted(after - before)}")
    ok(name, f"{bad[0]} (swaks status {rc}); nothing spooled")


def check_oversize():
    name = "clients-swaks-oversize"
    limit = 20 * 1024 * 1024
    path = os.path.join(A.work, "big.txt")
    line = b"x" * 98 + b"\n"
    with open(path, "wb") as f:
        f.write(line * (limit // len(line) + 10000))
    before = SP.qids()
    rc, srv, _, _ = swaks("--to", TO, "--body", f"@{path}",
                          "--suppress-data", timeout=300)
    r = final(srv)
    s = smtplib.SMTP(A.dst, 25, timeout=30)
    s.ehlo("smtplib.example.org")
    c1, m1 = s.mail(FROM, [f"SIZE={limit + 1}"])
    s.rset()
    c2, m2 = s.mail(FROM, [f"SIZE={limit}"])
    s.rset()
    s.quit()
    after = SP.qids()
    if not r.startswith("552 5.3.4"):
        return fail(name, f"21 MiB body: {r!r}, want 552 5.3.4")
    if c1 != 552 or not m1.startswith(b"5.3.4") or c2 != 250:
        return fail(name, f"SIZE={limit + 1}: {c1} {m1!r} (want 552 5.3.4);"
                    f" SIZE={limit}: {c2} {m2!r} (want 250)")
    if after != before:
        return fail(name, f"the spool gained {sorted(after - before)}")
    ok(name, f"21 MiB body: {r}; smtplib SIZE={limit + 1}: {c1} "
       f"{m1.decode()}, SIZE={limit}: {c2}; nothing spooled")


def check_abort():
    name = "clients-swaks-abort"
    before = SP.qids()
    rc1, srv1, _, _ = swaks("--to", TO, "--quit-after", "RCPT")
    rc2, srv2, cli2, _ = swaks("--to", TO, "--drop-after", "DATA")
    after = SP.qids()
    if rc1 != 0 or not srv1 or not srv1[-1].startswith("221"):
        return fail(name, f"--quit-after RCPT: status {rc1}, replies "
                    f"{srv1[-2:]}")
    if not srv2 or not srv2[-1].startswith("354") or \
            any(l.startswith("QUIT") for l in cli2):
        return fail(name, f"--drop-after DATA: replies {srv2[-2:]}")
    if after != before:
        return fail(name, f"the spool gained {sorted(after - before)}")
    ok(name, "--quit-after RCPT: 250, 250, 221; --drop-after DATA: dropped "
       "after 354; nothing spooled")


CHECKS = {"plain": check_plain, "pipeline": check_pipeline,
          "attach": check_attach, "eicar": check_eicar, "exe": check_exe,
          "relay": check_relay, "oversize": check_oversize,
          "abort": check_abort}


def main():
    global A, SP
    p = argparse.ArgumentParser()
    for a in ("--dst", "--spool-tool", "--spool", "--samples", "--work"):
        p.add_argument(a, required=True)
    p.add_argument("checks", nargs="*")
    A = p.parse_args()
    SP = Spool(A.spool_tool, A.spool)
    for c in A.checks or list(CHECKS):
        try:
            CHECKS[c]()
        except Exception as e:  # noqa: BLE001
            fail(f"clients-swaks-{c}", f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
