#!/usr/bin/python3
"""Gateway checks against sluiced's SMTP port (run inside sluice-test).

  gwtest.py --dst 198.18.0.1 --spool-tool PATH --spool DIR --samples DIR
            [--stats FILE] [CHECK...]

Each check prints one PASS/FAIL line. The spool is read with sluice-spool
(list --json, export), so what is checked is what the control plane sees.
"""
import argparse
import hashlib
import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time

A = None
QID = re.compile(rb"queued as ([0-9A-Z]{16})")


def ok(name, msg):
    print(f"PASS {name}: {msg}", flush=True)


def fail(name, msg):
    print(f"FAIL {name}: {msg}", flush=True)


def spool_list():
    out = subprocess.run([A.spool_tool, "--spool", A.spool, "list", "--json"],
                         check=True, capture_output=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def spool_export(qid):
    return subprocess.run([A.spool_tool, "--spool", A.spool, "export", qid],
                          check=True, capture_output=True).stdout


def crlf(b):
    """CRLF line ends, as a mail client sends them (config/samples/
    eicar.eml has a stray CR before one CRLF, which the gateway would
    rightly reject as a bare CR)."""
    b = re.sub(rb"\r*\n", b"\r\n", b)
    return b if b.endswith(b"\r\n") else b + b"\r\n"


def strip_received(b):
    """The export without its first header field (our Received:)."""
    if not b.startswith(b"Received:"):
        return None
    lines = b.split(b"\r\n")
    i = 1
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        i += 1
    return b"\r\n".join(lines[i:])


def send(msg, frm, rcpts, s=None):
    """One transaction; returns (code, reply bytes)."""
    own = s is None
    if own:
        s = smtplib.SMTP(A.dst, 25, timeout=30)
        s.ehlo("client.example.org")
    code, r = s.mail(frm)
    if code != 250:
        return code, r
    for t in rcpts:
        code, r = s.rcpt(t)
        if code != 250:
            return code, r
    code, r = s.data(msg)
    if own:
        s.quit()
    return code, r


def check_clean():
    name = "gw-clean"
    raw = crlf(open(f"{A.samples}/clean.eml", "rb").read())
    code, r = send(raw, "alice@example.org", ["bob@example.net"])
    m = QID.search(r)
    if code != 250 or not m:
        return fail(name, f"end of DATA got {code} {r!r}, want 250 queued as")
    qid = m.group(1).decode()
    recs = [x for x in spool_list() if x["queue_id"] == qid]
    if len(recs) != 1:
        return fail(name, f"queue id {qid}: {len(recs)} spool records")
    rec = recs[0]
    if rec["from"] != "alice@example.org" or rec["to"] != ["bob@example.net"]:
        return fail(name, f"envelope in the spool: from {rec['from']!r} "
                    f"to {rec['to']!r}")
    if rec.get("verdict") != "clean":
        return fail(name, f"verdict {rec.get('verdict')!r}, want clean")
    exp = spool_export(qid)
    if hashlib.sha256(exp).hexdigest() != rec["sha256"]:
        return fail(name, "list's sha256 is not the exported bytes'")
    body = strip_received(exp)
    if body is None or qid.encode() not in exp.split(b"\r\n\r\n")[0]:
        return fail(name, "export does not start with a Received: header "
                    "naming the queue id")
    if body != raw:
        return fail(name, f"export differs from what was sent ({len(body)} "
                    f"vs {len(raw)} bytes, Received: excluded)")
    ok(name, f"250 queued as {qid}; spool: from/to/verdict right, sha256 "
       f"matches, export byte-exact apart from Received: ({len(raw)} bytes)")


def check_eicar():
    name = "gw-eicar"
    before = {x["queue_id"] for x in spool_list()}
    raw = crlf(open(f"{A.samples}/eicar.eml", "rb").read())
    code, r = send(raw, "mallory@example.org", ["bob@example.net"])
    time.sleep(0.2)
    after = {x["queue_id"] for x in spool_list()}
    if code != 550 or b"5.7.1" not in r or b"virus" not in r:
        return fail(name, f"got {code} {r!r}, want 550 5.7.1 ... virus ...")
    if after != before:
        return fail(name, f"spool gained {sorted(after - before)}")
    ok(name, f"{code} {r.decode()}; nothing spooled")


def spool_show(qid):
    return subprocess.run([A.spool_tool, "--spool", A.spool, "show", qid],
                          check=True, capture_output=True).stdout.decode()


def header_block(b):
    return b.split(b"\r\n\r\n", 1)[0]


def check_edit():
    """The policy's edits are applied to the stored message: exe.eml's
    .exe part is replaced by the notice and the inbound policy's header is
    added; spam.eml gets its subject tag and header. The spool record's
    sha256 and size are of the stored (edited) bytes; its "original" line
    has the received message's."""
    name = "gw-edit"
    raw = crlf(open(f"{A.samples}/exe.eml", "rb").read())
    code, r = send(raw, "carol@example.org", ["bob@example.net"])
    m = QID.search(r)
    if code != 250 or not m:
        return fail(name, f"exe.eml got {code} {r!r}, want 250")
    qid = m.group(1).decode()
    exp = spool_export(qid)
    rec = [x for x in spool_list() if x["queue_id"] == qid][0]
    if b"TVoAAAAA" in exp or b'filename="setup.exe"\r\n' in exp:
        return fail(name, "the stored exe.eml still holds the .exe part")
    if b"was removed by the mail gateway" not in exp:
        return fail(name, "the stored exe.eml has no removal notice")
    hdr = header_block(exp)
    if b"\r\nX-Sluice-Attachment-Removed: " not in hdr:
        return fail(name, "the stored exe.eml lacks the inbound policy's "
                    "X-Sluice-Attachment-Removed: header")
    if hashlib.sha256(exp).hexdigest() != rec["sha256"] or \
            rec["size"] != len(exp):
        return fail(name, "the record's sha256/size are not the stored "
                    "message's")
    rest = strip_received(exp)
    received = exp[:len(exp) - len(rest)] if rest is not None else b""
    orig = hashlib.sha256(received + raw).hexdigest()
    shown = spool_show(qid)
    want = f"original size={len(received) + len(raw)} sha256={orig}"
    if want not in shown:
        return fail(name, f"show lacks '{want}':\n{shown}")
    raw2 = crlf(open(f"{A.samples}/spam.eml", "rb").read())
    code2, r2 = send(raw2, "winner@lottery.example.com", ["bob@example.net"])
    m2 = QID.search(r2)
    if code2 != 250 or not m2:
        return fail(name, f"spam.eml got {code2} {r2!r}, want 250")
    exp2 = spool_export(m2.group(1).decode())
    hdr2 = header_block(exp2)
    if not re.search(rb"\r\nSubject: \[SPAM\] ", hdr2):
        return fail(name, f"spam.eml's stored subject is not tagged:\n"
                    f"{hdr2.decode(errors='replace')}")
    if b"\r\nX-Sluice-Spam: yes, score=" not in hdr2:
        return fail(name, "spam.eml lacks the X-Sluice-Spam: header")
    ok(name, f"exe.eml 250 {qid}: .exe part replaced by the notice, "
       f"X-Sluice-Attachment-Removed: added, record sha256/size of the "
       f"stored {len(exp)} bytes (original {len(received) + len(raw)} "
       f"kept in the record); spam.eml: [SPAM] tag and X-Sluice-Spam:")


def check_timeout():
    """With dataplane.scan_time_budget at 1 ms (the run script's second
    gateway), a message whose scan takes longer (8 MiB of base64) gets
    451 4.7.0, is not spooled, and is counted in total.scan_timeout."""
    name = "gw-timeout"
    import base64
    import random
    before = {x["queue_id"] for x in spool_list()}
    blob = base64.encodebytes(random.Random(1).randbytes(8 << 20))
    msg = (b"From: a@example.org\r\nTo: b@example.net\r\nSubject: big\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
           b"boundary=\"B\"\r\n\r\n--B\r\nContent-Type: application/"
           b"octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
           blob.replace(b"\n", b"\r\n") + b"--B--\r\n")
    t0 = time.time()
    code, r = send(msg, "a@example.org", ["b@example.net"])
    if code != 451 or not r.startswith(b"4.7.0") or b"try again" not in r:
        return fail(name, f"got {code} {r!r}, want 451 4.7.0 ... try again")
    time.sleep(0.3)
    if {x["queue_id"] for x in spool_list()} != before:
        return fail(name, "the timed-out message was spooled")
    n = 0
    while time.time() < t0 + 10:
        try:
            st = json.load(open(A.stats))
            n = st["total"].get("scan_timeout", 0)
            if n >= 1 and st["time"] >= t0 + 1:
                break
        except (ValueError, KeyError, OSError):
            pass
        time.sleep(0.3)
    if n < 1:
        return fail(name, "total.scan_timeout stayed 0")
    ok(name, f"{len(msg)} bytes with a 1 ms budget: {code} {r.decode()}; "
       f"not spooled; total.scan_timeout {n}")


def expect(f, codes):
    """Read one reply per code (multi-line replies joined)."""
    got = []
    for want in codes:
        lines = []
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError(f"connection closed; got {got}")
            lines.append(line.rstrip(b"\r\n"))
            if line[3:4] != b"-":
                break
        code = int(lines[-1][:3])
        got.append(lines[-1])
        if code != want:
            raise RuntimeError(f"reply {len(got)}: {lines[-1]!r}, want {want}")
    return got


def check_pipelined():
    name = "gw-pipelined"
    try:
        s = socket.create_connection((A.dst, 25), timeout=30)
        f = s.makefile("rb")
        expect(f, [220])
        s.sendall(b"EHLO client.example.org\r\n")
        r = expect(f, [250])
        body = lambda n: (f"From: a@example.org\r\nTo: b@example.net\r\n"
                          f"Subject: pipelined {n}\r\n\r\nbody {n}\r\n"
                          f".\r\n").encode()
        txn = (b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
               b"RCPT TO:<c@example.net>\r\nDATA\r\n")
        s.sendall(txn)
        expect(f, [250, 250, 250, 354])
        # End of data and the next transaction in one write: the second
        # group waits in the TCP queue until the verdict is back.
        s.sendall(body(1) + txn)
        r1 = expect(f, [250, 250, 250, 250, 354])
        s.sendall(body(2) + b"QUIT\r\n")
        r2 = expect(f, [250, 221])
        s.close()
    except Exception as e:  # noqa: BLE001
        return fail(name, str(e))
    qids = [QID.search(r1[0]), QID.search(r2[0])]
    if not all(qids):
        return fail(name, f"no queue ids in {r1[0]!r} / {r2[0]!r}")
    qids = [m.group(1).decode() for m in qids]
    recs = {x["queue_id"]: x for x in spool_list()}
    for i, q in enumerate(qids, 1):
        if q not in recs or recs[q]["to"] != ["b@example.net",
                                             "c@example.net"]:
            return fail(name, f"message {i} ({q}) not spooled right")
        if f"pipelined {i}".encode() not in spool_export(q):
            return fail(name, f"message {i} ({q}): wrong bytes")
    ok(name, f"two pipelined transactions + QUIT: 250 {qids[0]}, 250 "
       f"{qids[1]}, 221; both spooled with two recipients")


def check_load(sessions=10, per=20):
    name = "gw-load"
    before = {x["queue_id"] for x in spool_list()}
    results, errors = {}, []
    lock = threading.Lock()

    def worker(w):
        try:
            s = smtplib.SMTP(A.dst, 25, timeout=60)
            s.ehlo(f"load{w}.example.org")
            for i in range(per):
                tok = f"load-{w}-{i}"
                msg = (f"From: s{w}@example.org\r\nTo: r{i}@example.net\r\n"
                       f"Subject: {tok}\r\nMessage-ID: <{tok}@example.org>"
                       f"\r\n\r\n" + f"line {tok} " * 50 + "\r\n").encode()
                code, r = send(msg, f"s{w}@example.org",
                               [f"r{i}@example.net"], s)
                m = QID.search(r)
                with lock:
                    if code != 250 or not m:
                        errors.append(f"{tok}: {code} {r!r}")
                    else:
                        results[tok] = (m.group(1).decode(), msg)
            s.quit()
        except Exception as e:  # noqa: BLE001
            with lock:
                errors.append(f"session {w}: {e}")

    t0 = time.time()
    th = [threading.Thread(target=worker, args=(w,)) for w in range(sessions)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    dt = time.time() - t0
    if errors:
        return fail(name, f"{len(errors)} errors, first: {errors[0]}")
    total = sessions * per
    qids = [q for q, _ in results.values()]
    if len(results) != total or len(set(qids)) != total:
        return fail(name, f"{len(results)} replies, {len(set(qids))} "
                    f"distinct queue ids, want {total}")
    lst = [x for x in spool_list() if x["queue_id"] not in before]
    ids = [x["queue_id"] for x in lst]
    if sorted(ids) != sorted(qids):
        extra = set(ids) - set(qids)
        missing = set(qids) - set(ids)
        dup = len(ids) - len(set(ids))
        return fail(name, f"spool: {len(missing)} missing, {len(extra)} "
                    f"unexpected, {dup} duplicated")
    bad = 0
    for tok, (q, msg) in results.items():
        if strip_received(spool_export(q)) != msg:
            bad += 1
    if bad:
        return fail(name, f"{bad} spooled messages differ from what was sent")
    ok(name, f"{total} messages over {sessions} sessions in {dt:.1f}s: "
       f"every one 250'd, spooled exactly once, byte-exact")


def check_abort(n=20):
    """Clients that reset the connection right after end of DATA (the
    verdict may find the session gone): the gateway stays up and leaks
    nothing (gw-stats checks the buffers afterwards)."""
    name = "gw-abort"
    import struct
    for i in range(n):
        s = socket.create_connection((A.dst, 25), timeout=30)
        f = s.makefile("rb")
        expect(f, [220])
        s.sendall(b"EHLO abort.example.org\r\nMAIL FROM:<a@example.org>\r\n"
                  b"RCPT TO:<b@example.net>\r\nDATA\r\n")
        expect(f, [250, 250, 250, 354])
        s.sendall(f"Subject: abort {i}\r\n\r\nx\r\n.\r\n".encode())
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.close()  # RST
    code, r = send(crlf(b"Subject: after\r\n\r\nstill here\r\n"),
                   "a@example.org", ["b@example.net"])
    if code != 250:
        return fail(name, f"after {n} resets: {code} {r!r}")
    ok(name, f"{n} connections reset after end of DATA; the next message "
       f"still gets 250")


def check_route():
    """One policy route per transaction: from an internal sender, a
    recipient in an internal domain (route incoming) then an external one
    (route outgoing: 452 4.5.3, to be sent in a separate transaction); the
    message goes with the first only, and the 452'd recipient goes through
    in the next transaction. Needs the client in smtp.relay_networks (the
    run script's config puts 198.18.0.2 there)."""
    name = "gw-route"
    try:
        s = socket.create_connection((A.dst, 25), timeout=30)
        f = s.makefile("rb")
        expect(f, [220])
        s.sendall(b"EHLO route.example.org\r\n")
        expect(f, [250])
        msg = b"Subject: one route\r\n\r\nx\r\n.\r\n"
        s.sendall(b"MAIL FROM:<alice@example.net>\r\n"
                  b"RCPT TO:<bob@example.net>\r\n"
                  b"RCPT TO:<carol@example.org>\r\n"
                  b"RCPT TO:<dave@example.net>\r\nDATA\r\n")
        r = expect(f, [250, 250, 452, 250, 354])
        s.sendall(msg)
        q1 = expect(f, [250])[0]
        s.sendall(b"MAIL FROM:<alice@example.net>\r\n"
                  b"RCPT TO:<carol@example.org>\r\nDATA\r\n")
        expect(f, [250, 250, 354])
        s.sendall(msg)
        q2 = expect(f, [250])[0]
        s.sendall(b"QUIT\r\n")
        expect(f, [221])
        f.close()
        s.close()
    except Exception as e:  # noqa: BLE001
        return fail(name, str(e))
    if not r[2].startswith(b"452 4.5.3 Recipient in another policy route"):
        return fail(name, f"the external recipient got {r[2]!r}")
    recs = {x["queue_id"]: x for x in spool_list()}
    a, b = (recs.get(QID.search(q).group(1).decode()) for q in (q1, q2))
    if a is None or b is None:
        return fail(name, "a message is missing from the spool")
    if a["to"] != ["bob@example.net", "dave@example.net"] or \
            a.get("route") != "incoming":
        return fail(name, f"first message: to {a['to']} route "
                    f"{a.get('route')!r}, want bob+dave, incoming")
    if b["to"] != ["carol@example.org"] or b.get("route") != "outgoing":
        return fail(name, f"second message: to {b['to']} route "
                    f"{b.get('route')!r}, want carol, outgoing")
    ok(name, f"{r[2].decode()}; spooled: bob+dave via route incoming, "
       f"then carol via route outgoing")


def check_stats():
    """No session, no message buffer left (smtp pool back to zero)."""
    name = "gw-stats"
    if not A.stats:
        return
    t0 = time.time()
    deadline = t0 + 10
    while True:
        try:
            st = json.load(open(A.stats))
        except ValueError:  # replaced while read: take the next one
            time.sleep(0.2)
            continue
        sm = [lc.get("smtp", {}) for lc in st["lcores"]]
        live = sum(x.get("live", 0) for x in sm)
        pool = sum(x.get("pool_in_use", 0) for x in sm)
        fresh = st["time"] >= t0 + 1  # written after every check ended
        if (fresh and live == 0 and pool == 0) or time.time() > deadline:
            break
        time.sleep(0.5)
    if not fresh:
        return fail(name, "the statistics file was not rewritten")
    if live or pool:
        return fail(name, f"{live} sessions, {pool} bytes of message "
                    f"buffers still in use after every client left")
    tot = st.get("total", {})
    if "handoff_full" not in tot or "scan_timeout" not in tot:
        return fail(name, "total.handoff_full / total.scan_timeout missing "
                    "from the statistics file")
    if "rules" not in st or st["rules"].get("generation", 0) < 1:
        return fail(name, "no rules.generation in the statistics file")
    c = [x.get("replies_2xx", 0) for x in sm]
    sc = st.get("scan_lcores", [])
    orph = sum(x.get("orphans", 0) for x in sm)
    ok(name, f"sessions 0, message buffers 0 bytes; 2xx verdicts "
       f"{sum(c)} ({orph} for connections already gone), scan lcores {len(sc)} (accepted "
       f"{sum(x['accepted'] for x in sc)}, rejected "
       f"{sum(x['rejected'] for x in sc)}); 451s for a full hand-off "
       f"ring {tot['handoff_full']}, for the time budget "
       f"{tot['scan_timeout']}; rules generation "
       f"{st['rules']['generation']}")


def rules_stats(want_key, want_value, secs=120):
    """Wait until the statistics file's "rules" object has want_key >=
    want_value; returns the object (or the last one seen)."""
    t0 = time.time()
    r = {}
    while time.time() < t0 + secs:
        try:
            r = json.load(open(A.stats)).get("rules", {})
        except (ValueError, OSError):
            r = r or {}
        if r.get(want_key, 0) >= want_value:
            return r
        time.sleep(0.2)
    return r


MARKER_RULE = """content_rules:
  - name: reload-marker
    keyword: "reload-marker"
    where: [subject]
    class: block
"""
BROKEN_RULE = """content_rules:
  - name: broken-rule
    keyword: "x"
    where: [nowhere]
"""


def marker_msg(n):
    return (f"From: a@example.org\r\nTo: b@example.net\r\nSubject: "
            f"reload-marker {n}\r\n\r\nbody\r\n").encode()


def check_reload():
    """SIGHUP with a changed content rule while sessions send mail: before
    the reload a message with subject "reload-marker" is delivered, after
    it rejected; no session sees an error or a dropped connection. Then a
    broken configuration: the reload fails (logged), the rules stay, mail
    keeps flowing."""
    name = "gw-reload"
    pid = int(open(A.pid_file).read())
    conf = open(A.config).read()
    if "\ncontent_rules:\n" not in conf:
        return fail(name, f"{A.config} has no content_rules: section")
    r0 = rules_stats("generation", 1, 10)
    gen0, fail0 = r0.get("generation", 0), r0.get("reload_failures", 0)
    code, r = send(marker_msg(0), "a@example.org", ["b@example.net"])
    if code != 250:
        return fail(name, f"before the reload the marker got {code} {r!r}")

    stop = threading.Event()
    errors, sent = [], [0]
    lock = threading.Lock()

    def worker(w):
        try:
            s = None
            i = 0
            while not stop.is_set():
                if i % 50 == 0:  # under smtp.max_messages per connection
                    if s is not None:
                        s.quit()
                    s = smtplib.SMTP(A.dst, 25, timeout=60)
                    s.ehlo(f"reload{w}.example.org")
                msg = (f"From: s{w}@example.org\r\nTo: r@example.net\r\n"
                       f"Subject: during reload {w}-{i}\r\n\r\nx\r\n"
                       ).encode()
                code, r = send(msg, f"s{w}@example.org", ["r@example.net"], s)
                with lock:
                    sent[0] += 1
                    if code != 250:
                        errors.append(f"worker {w} message {i}: {code} {r!r}")
                i += 1
            s.quit()
        except Exception as e:  # noqa: BLE001
            with lock:
                errors.append(f"worker {w}: {type(e).__name__}: {e}")

    th = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in th:
        t.start()
    time.sleep(0.5)
    with open(A.config, "w") as f:
        f.write(conf.replace("\ncontent_rules:\n", "\n" + MARKER_RULE, 1))
    os.kill(pid, signal.SIGHUP)
    r1 = rules_stats("generation", gen0 + 1)
    time.sleep(0.5)
    # A broken file next: the reload fails, generation gen0 + 1 stays.
    with open(A.config, "w") as f:
        f.write(conf.replace("\ncontent_rules:\n", "\n" + MARKER_RULE[:-1] +
                             "\n" + BROKEN_RULE.split("\n", 1)[1], 1))
    os.kill(pid, signal.SIGHUP)
    r2 = rules_stats("reload_failures", fail0 + 1)
    time.sleep(0.5)
    stop.set()
    for t in th:
        t.join()
    with open(A.config, "w") as f:  # as after the good reload
        f.write(conf.replace("\ncontent_rules:\n", "\n" + MARKER_RULE, 1))
    if r1.get("generation", 0) != gen0 + 1:
        return fail(name, f"no new generation after SIGHUP: {r1}")
    if r2.get("reload_failures", 0) != fail0 + 1 or \
            r2.get("generation") != gen0 + 1:
        return fail(name, f"broken config: want one failure and generation "
                    f"{gen0 + 1} kept, stats say {r2}")
    if errors:
        return fail(name, f"{len(errors)} of {sent[0]} messages during the "
                    f"reloads failed, first: {errors[0]}")
    code, r = send(marker_msg(1), "a@example.org", ["b@example.net"])
    if code != 550 or b"reload-marker" not in r:
        return fail(name, f"after the reload the marker got {code} {r!r}, "
                    f"want 550 ... reload-marker")
    code2, r2b = send(crlf(b"Subject: after\r\n\r\nfine\r\n"),
                      "a@example.org", ["b@example.net"])
    if code2 != 250:
        return fail(name, f"a clean message after the reloads got {code2}")
    ok(name, f"marker 250 before, {code} {r.decode()[:40]}... after "
       f"generation {gen0}->{gen0 + 1} ({r1.get('content_rules')} content "
       f"rules); broken file: reload failed, generation kept; {sent[0]} "
       f"messages over 4 sessions during the reloads, all 250")


def quiet(s, secs):
    """Nothing arrives on s within secs (True), or what did."""
    s.settimeout(secs)
    try:
        got = s.recv(4096)
        return got or b"<EOF>"
    except socket.timeout:
        return True
    finally:
        s.settimeout(30)


def check_drain():
    """SIGTERM while sessions are in every phase: idle between
    transactions -> 421 4.3.2 at once; in the middle of a transaction's
    commands -> 421 at the next command; inside DATA -> the message
    finishes (250 only once spooled), then 421; new connections are
    refused; the gateway then stops on its own. Runs last: it stops the
    gateway."""
    name = "gw-drain"
    pid = int(open(A.pid_file).read())
    conns = {}
    for k in ("idle", "txn", "data"):
        s = socket.create_connection((A.dst, 25), timeout=30)
        conns[k] = (s, s.makefile("rb"))
        expect(conns[k][1], [220])
        s.sendall(b"EHLO drain.example.org\r\n")
        expect(conns[k][1], [250])
    s, f = conns["idle"]
    msg = b"Subject: before drain\r\n\r\nx\r\n.\r\n"
    s.sendall(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
              b"DATA\r\n")
    expect(f, [250, 250, 354])
    s.sendall(msg)
    expect(f, [250])
    s, f = conns["txn"]
    s.sendall(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n")
    expect(f, [250, 250])
    s, f = conns["data"]
    s.sendall(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
              b"DATA\r\n")
    expect(f, [250, 250, 354])
    s.sendall(b"Subject: drain-in-data\r\n\r\nfirst half\r\n")
    time.sleep(0.2)

    os.kill(pid, signal.SIGTERM)
    s, f = conns["idle"]
    s.settimeout(5)
    try:
        r = expect(f, [421])[0]
    except Exception as e:  # noqa: BLE001
        return fail(name, f"idle session: {e}")
    if not r.startswith(b"421 4.3.2 ") or b"shutting down" not in r:
        return fail(name, f"idle session got {r!r}")
    if f.readline() != b"":
        return fail(name, "idle session not closed after its 421")
    s, f = conns["txn"]
    q = quiet(s, 0.5)
    if q is not True:
        return fail(name, f"session inside a transaction got {q!r} before "
                    f"its next command")
    s.sendall(b"RCPT TO:<c@example.net>\r\n")
    try:
        r2 = expect(f, [421])[0]
    except Exception as e:  # noqa: BLE001
        return fail(name, f"session inside a transaction: {e}")
    try:
        c = socket.create_connection((A.dst, 25), timeout=5)
        c.settimeout(3)
        got = c.recv(100)
        c.close()
        if got:
            return fail(name, f"a new connection while draining got {got!r}")
    except OSError:
        pass  # refused (RST) as it should be
    s, f = conns["data"]
    q = quiet(s, 0.3)
    if q is not True:
        return fail(name, f"session in DATA got {q!r} before its end")
    s.sendall(b"second half\r\n.\r\n")
    try:
        r3 = expect(f, [250, 421])
    except Exception as e:  # noqa: BLE001
        return fail(name, f"session in DATA: {e}")
    m = QID.search(r3[0])
    if not m:
        return fail(name, f"no queue id in {r3[0]!r}")
    qid = m.group(1).decode()
    if b"second half" not in spool_export(qid):
        return fail(name, f"{qid} is not in the spool")
    for s, f in conns.values():
        f.close()  # the socket closes with its last file object
        s.close()
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        return fail(name, "sluiced still running 10 s after the sessions "
                    "ended")
    ok(name, f"idle: {r.decode()}; mid-transaction: nothing until RCPT, "
       f"then {r2.decode()[:9]}; new connection refused; in DATA: "
       f"{r3[0].decode()} (spooled), then 421; sluiced stopped")


CHECKS = {"clean": check_clean, "eicar": check_eicar,
          "pipelined": check_pipelined, "load": check_load,
          "abort": check_abort, "route": check_route, "edit": check_edit,
          "stats": check_stats}
LATER = {"drain": check_drain, "reload": check_reload,
         "timeout": check_timeout}  # only when named


def main():
    global A
    p = argparse.ArgumentParser()
    p.add_argument("--dst", required=True)
    p.add_argument("--spool-tool", required=True)
    p.add_argument("--spool", required=True)
    p.add_argument("--samples", required=True)
    p.add_argument("--stats")
    p.add_argument("--pid-file")
    p.add_argument("--config")
    p.add_argument("checks", nargs="*")
    A = p.parse_args()
    for c in A.checks or list(CHECKS):
        try:
            {**CHECKS, **LATER}[c]()
        except Exception as e:  # noqa: BLE001
            fail(f"gw-{c}", f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
