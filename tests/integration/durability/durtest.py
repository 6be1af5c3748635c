#!/usr/bin/python3
"""Durability of accepted mail over the wire (issue 4): sluiced in a test
network, SMTP clients in its namespace, the spool read with sluice-spool.

  durtest.py --root DIR --sluiced PATH --tool PATH --work DIR --ns NAME
             --run-dir DIR --mnt DIR --fs TEXT --faultfs SO --dm TEXT
             [--seed N] [--rounds N] [CHECK...]

Checks (one PASS/FAIL line each): kill9, enospc, fsync (see run). Runs
outside the namespace: scripts/testnet brings sluiced up and down, client
threads enter the namespace with setns(2) before each connection (the
namespace is made anew at every restart).
"""
import argparse
import concurrent.futures
import ctypes
import json
import os
import random
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import zlib

A = None
QID = re.compile(rb"queued as ([0-9A-Z]{16})")
MSGID = re.compile(rb"^Message-ID: (<[^>\r\n]+>)\r$", re.M | re.I)
DST = "198.18.0.1"
CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet "
         "kilo lima mike november oscar papa quebec romeo sierra tango "
         "uniform victor whiskey xray yankee zulu").split()


T0 = time.time()


def note(msg):
    """Progress on stderr (the run script shows its tail on failure)."""
    print(f"[{time.time() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def ok(name, msg):
    print(f"PASS {name}: {msg}", flush=True)


def fail(name, msg):
    print(f"FAIL {name}: {msg}", flush=True)


class CheckFailed(Exception):
    pass


def need(cond, what):
    if not cond:
        raise CheckFailed(what)


# ---- the namespace and the gateway ------------------------------------------

def enter_ns():
    """Move the calling thread into the test namespace (per thread: the
    main thread stays outside and runs scripts/testnet)."""
    fd = os.open(f"/run/netns/{A.ns}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if LIBC.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns {A.ns}: {os.strerror(e)}")
    finally:
        os.close(fd)


def in_ns(fn, *args):
    """Run fn(*args) in a thread inside the namespace; its result."""
    box = {}

    def run():
        try:
            enter_ns()
            box["r"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            box["e"] = e
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "e" in box:
        raise box["e"]
    return box["r"]


def make_conf(spool, message_size=None, floor=None, compress=None,
              load=False):
    """config/sluice.conf with our run dir and spool; every edit must hit
    exactly one line. load: no connection-rate cap and 1000 messages per
    connection, so the load clients' reconnects never meet a 421 however
    fast the machine is."""
    s = open(f"{A.root}/config/sluice.conf").read()
    edits = [(r"^  run_dir: .*$", f"  run_dir: {A.run_dir}"),
             (r"^  dir: /var/spool/sluice.*$", f"  dir: {spool}"),
             (r"^signatures: \[signatures\]$",
              f"signatures: [{A.root}/config/signatures]"),
             (r"^rule_cache: \.cache$", f"rule_cache: {A.root}/config/.cache")]
    if message_size is not None:
        edits += [(r"^  message_size: .*$", f"  message_size: {message_size}"),
                  (r"^  max_message_size: .*$",
                   f"  max_message_size: {message_size}")]
    if floor is not None:
        edits.append((r"^  # free_space_floor: .*$",
                      f"  free_space_floor: {floor}"))
    if compress is not None:
        edits.append((r"^  compress: .*$", f"  compress: {compress}"))
    if load:
        edits += [(r"^  max_messages: .*$", "  max_messages: 1000"),
                  (r"^  connection_rate: .*$", "  connection_rate: 0")]
    for pat, rep in edits:
        s, n = re.subn(pat, rep, s, flags=re.M)
        if n != 1:
            raise CheckFailed(f"config: '{pat}' matched {n} lines of "
                              "config/sluice.conf (its layout changed?)")
    return s


class Gateway:
    """One configuration of sluiced, started and stopped with
    scripts/testnet; tracks the pid it launched."""

    def __init__(self, name, conf_text, sluiced=None):
        self.conf = f"{A.work}/{name}.conf"
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.sluiced = sluiced or A.sluiced
        self.pid = None
        self.logs = []  # logs of earlier instances
        self.log_path = f"{A.run_dir}/sluiced.log"

    def testnet(self, *args):
        env = dict(os.environ, TESTNET_NS=A.ns, SLUICED=self.sluiced)
        return subprocess.run([f"{A.root}/scripts/testnet", *args], env=env,
                              capture_output=True, text=True, timeout=90)

    def up(self):
        r = self.testnet("up", "--", "-c", self.conf)
        if r.returncode != 0:
            raise CheckFailed("scripts/testnet up failed: " +
                              (r.stdout + r.stderr).strip()[-600:])
        pid = open(f"{A.run_dir}/sluiced.pid").read().strip()
        self.pid = int(pid)
        need(self.ours(self.pid), f"pid {pid} is not a sluiced in {A.ns}")

    def ours(self, pid):
        try:
            comm = open(f"/proc/{pid}/comm").read().strip()
            ns = os.stat(f"/proc/{pid}/ns/net")
            mine = os.stat(f"/run/netns/{A.ns}")
        except OSError:
            return False
        return comm.startswith("sluiced") and (ns.st_ino, ns.st_dev) == \
            (mine.st_ino, mine.st_dev)

    def alive(self, pid):
        try:
            st = open(f"/proc/{pid}/stat").read()
        except OSError:
            return False
        return st[st.rindex(")") + 2] not in "ZX"

    def kill9(self):
        pid = self.pid
        need(pid is not None and self.ours(pid),
             f"sluiced pid {pid} is gone before the kill")
        os.kill(pid, signal.SIGKILL)
        end = time.time() + 10
        while self.alive(pid):
            need(time.time() < end, f"sluiced pid {pid} survives SIGKILL")
            time.sleep(0.02)
        self.pid = None
        return pid

    def down(self):
        """SIGTERM (scripts/testnet down) or, after a kill, the cleanup of
        the namespace. Keeps the instance's log."""
        r = self.testnet("down")
        self.logs.append(self.log())
        self.pid = None
        if r.returncode != 0:
            raise CheckFailed("scripts/testnet down failed: " +
                              (r.stdout + r.stderr).strip()[-400:])

    def log(self):
        try:
            return open(self.log_path, errors="replace").read()
        except OSError:
            return ""

    def wait_log(self, pattern, since, timeout):
        """The first match of pattern in the log after offset since."""
        end = time.time() + timeout
        delay = 0.02
        while True:
            m = re.search(pattern, self.log()[since:])
            if m or time.time() > end:
                return m
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


# ---- SMTP -------------------------------------------------------------------

def connect(timeout=10):
    s = smtplib.SMTP(DST, 25, local_hostname="client.example.org",
                     timeout=timeout)
    s.ehlo("client.example.org")
    return s


def transact(s, msg, frm="sender@example.org", rcpt="rcpt@example.net"):
    """One transaction on session s: ("250", qid) or (code or "lost",
    reply text)."""
    try:
        code, r = s.mail(frm)
        if code != 250:
            return str(code), r
        code, r = s.rcpt(rcpt)
        if code != 250:
            return str(code), r
        code, r = s.data(msg)
    except smtplib.SMTPResponseException as e:
        return str(e.smtp_code), e.smtp_error
    except (smtplib.SMTPException, OSError) as e:
        return "lost", str(e).encode()
    if code == 250:
        m = QID.search(r)
        return ("250", m.group(1).decode()) if m else ("250?", r)
    return str(code), r


def send_one(msg):
    """One message on its own connection (call inside the namespace)."""
    try:
        s = connect()
    except (smtplib.SMTPException, OSError) as e:
        return "lost", str(e).encode()
    out = transact(s, msg)
    try:
        s.quit()
    except (smtplib.SMTPException, OSError):
        pass
    return out


def send_many(msgs):
    """Each message on its own connection, all at once (in the namespace);
    the outcomes in order."""
    res = [None] * len(msgs)

    def one(i):
        enter_ns()
        res[i] = send_one(msgs[i])
    th = [threading.Thread(target=one, args=(i,)) for i in range(len(msgs))]
    for t in th:
        t.start()
    for t in th:
        t.join(120)
    return [r if r is not None else ("lost", b"thread hung") for r in res]


def open_txn():
    """A session with MAIL FROM and RCPT TO accepted (call inside the
    namespace; the socket stays in it, usable from any thread)."""
    s = connect()
    code, r = s.mail("sender@example.org")
    if code == 250:
        code, r = s.rcpt("rcpt@example.net")
    if code != 250:
        close_quietly(s)
        raise CheckFailed(f"opening a transaction: {code} {r!r}")
    return s


def close_quietly(s):
    try:
        s.quit()
    except (smtplib.SMTPException, OSError):
        s.close()


def mail_from_only():
    """EHLO + MAIL FROM: the reply (call inside the namespace)."""
    s = connect()
    try:
        code, r = s.mail("sender@example.org")
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass
    return code, r


def text_msg(tag, rnd, size):
    """A message with Message-ID <tag@durability.example.org> and about
    size bytes of plain words (CRLF lines, none starting with a dot)."""
    lines, n = [], 0
    while n < size:
        line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 12)))
        lines.append(line)
        n += len(line) + 2
    head = (f"From: sender@example.org\r\nTo: rcpt@example.net\r\n"
            f"Subject: durability {tag}\r\n"
            f"Message-ID: <{tag}@durability.example.org>\r\n\r\n")
    return (head + "\r\n".join(lines) + "\r\n").encode()


def random_msg(tag, rnd, size):
    """Incompressible: base64 lines of random bytes."""
    import base64
    raw = rnd.randbytes(size * 3 // 4)
    b = base64.b64encode(raw)
    body = b"\r\n".join(b[i:i + 76] for i in range(0, len(b), 76))
    head = (f"From: sender@example.org\r\nTo: rcpt@example.net\r\n"
            f"Subject: durability {tag}\r\n"
            f"Message-ID: <{tag}@durability.example.org>\r\n"
            f"Content-Type: application/octet-stream\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n").encode()
    return head + body + b"\r\n"


def msgid(b):
    m = MSGID.search(b.split(b"\r\n\r\n", 1)[0] + b"\r\n")
    return m.group(1).decode() if m else None


# ---- the spool, read with sluice-spool -----------------------------------------

def spool_list(spool):
    """(entries, stderr lines, exit status) of `sluice-spool list --json`."""
    r = subprocess.run([A.tool, "--spool", spool, "list", "--json"],
                       capture_output=True, timeout=120)
    out = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    return out, r.stderr.decode(errors="replace").splitlines(), r.returncode


def spool_export(spool, qid):
    r = subprocess.run([A.tool, "--spool", spool, "export", qid],
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        return None
    return r.stdout


def strip_received(b):
    """The export without its first header field (our Received:)."""
    if b is None or not b.startswith(b"Received:"):
        return None
    lines = b.split(b"\r\n")
    i = 1
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        i += 1
    return b"\r\n".join(lines[i:])


TAIL = re.compile(r"^sluice-spool: (\S+) offset (\d+): (\d+) bytes at the "
                  r"end form no complete record")


def reports(err):
    """Classify sluice-spool's stderr: (tails [(file, off, n)], others)."""
    tails, other = [], []
    for line in err:
        m = TAIL.match(line)
        if m:
            tails.append((m.group(1), int(m.group(2)), int(m.group(3))))
        elif line.strip():
            other.append(line)
    return tails, other


def record_message(e):
    """The message bytes of a list entry read from its segment file: the
    record's length is in its framing (offset 12, spool_rec.h) and an
    uncompressed record ends with the message (size bytes). None when the
    record does not end with bytes whose SHA-256 is the one sluice-spool
    listed (a compressed record, or something wrong)."""
    import hashlib
    with open(e["segment"], "rb") as f:
        f.seek(e["offset"])
        head = f.read(16)
        if len(head) < 16 or head[:4] != b"SLSP":
            return None
        n = int.from_bytes(head[12:16], "little")
        f.seek(e["offset"])
        rec = f.read(n)
    if len(rec) != n or n < e["size"]:
        return None
    body = rec[n - e["size"]:]
    return body if hashlib.sha256(body).hexdigest() == e["sha256"] else None


def read_spool(spool, sent, direct=False, export_also=None):
    """Everything in the spool, each message checked against what the
    clients sent: (entries by qid, torn tails, problems). An entry gets
    "mid" (the Message-ID it carries) and "exact" (bytes equal to what was
    sent with that Message-ID, apart from our Received:).

    Messages are read with `sluice-spool export`, one process each (and
    each opens the whole spool), or with direct (for a spool written with
    compress: off) from the segment at the offset `list --json` gives,
    checked against the SHA-256 it lists; then export_also(entry) picks
    the entries exported as well, whose export must be the same bytes."""
    lst, err, rc = spool_list(spool)
    tails, other = reports(err)
    problems = []
    if rc != 0:
        problems.append(f"sluice-spool list exited {rc}: {' | '.join(err)[:300]}")
    for line in other:
        problems.append(f"sluice-spool reported: {line}")
    by_qid = {}
    for e in lst:
        if e["queue_id"] in by_qid:
            problems.append(f"queue id {e['queue_id']} listed twice")
        by_qid[e["queue_id"]] = e

    def load(e):
        if direct:
            raw = record_message(e)
            if raw is None:
                return e, None, "not readable from its segment (or its "\
                    "SHA-256 is not the listed one)"
            if export_also is not None and export_also(e) and \
                    spool_export(spool, e["queue_id"]) != raw:
                return e, None, "export differs from the record's bytes"
        else:
            raw = spool_export(spool, e["queue_id"])
            if raw is None:
                return e, None, "export failed"
        body = strip_received(raw)
        return e, body, None if body is not None else "no Received: header"
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        for e, body, why in ex.map(load, lst):
            e["mid"] = msgid(body) if body is not None else None
            e["exact"] = False
            if why is not None:
                problems.append(f"{e['queue_id']}: {why}")
            elif e["mid"] not in sent:
                problems.append(f"{e['queue_id']}: a message no client sent "
                                f"(Message-ID {e['mid']})")
            else:
                e["exact"] = body == sent[e["mid"]]
                if not e["exact"]:
                    problems.append(f"{e['queue_id']} ({e['mid']}): bytes "
                                    "differ from what was sent")
    return by_qid, tails, problems


def check_acked(by_qid, acked):
    """Every 250'd (Message-ID -> qid) is in the spool under that qid with
    its own bytes and not marked done."""
    problems = []
    qids = list(acked.values())
    if len(set(qids)) != len(qids):
        problems.append(f"{len(qids) - len(set(qids))} queue ids given in "
                        "250 replies twice")
    for mid, qid in acked.items():
        e = by_qid.get(qid)
        if e is None:
            problems.append(f"{mid}: 250 queued as {qid}, not in the spool")
        elif e.get("mid") != mid:
            problems.append(f"{mid}: 250 queued as {qid}, which holds "
                            f"{e.get('mid')}")
        elif e["done"]:
            problems.append(f"{mid}: 250 queued as {qid}, marked done")
    return problems


def seg_num(path):
    m = re.search(r"seg-([0-9a-f]{16})\.spool$", path)
    return int(m.group(1), 16) if m else -1


# ---- kill -9 under load ------------------------------------------------------

class Load:
    """Client threads sending distinct messages; a message is resent (same
    bytes) until it gets 250, as an MTA would. attempts: (mid, outcome,
    qid or None) for every try."""

    def __init__(self, nthreads, seed):
        self.n = nthreads
        self.seed = seed
        self.lock = threading.Lock()
        self.up = threading.Event()
        self.stop = threading.Event()
        self.epoch = 0
        self.socks = {}
        self.sent = {}
        self.attempts = []
        self.errors = []
        self.threads = []

    def start(self):
        self.threads = [threading.Thread(target=self.worker, args=(w,))
                        for w in range(self.n)]
        for t in self.threads:
            t.start()

    def interrupt(self):
        """The gateway is gone: no new connections, break the open ones
        (their sockets would otherwise wait for a dead peer)."""
        with self.lock:
            self.up.clear()
            self.epoch += 1
            socks = list(self.socks.values())
            self.socks.clear()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join(self, timeout):
        self.stop.set()
        self.up.set()
        end = time.time() + timeout
        for t in self.threads:
            t.join(max(0.1, end - time.time()))
        return all(not t.is_alive() for t in self.threads)

    def session(self, w):
        with self.lock:
            epoch = self.epoch
        try:
            enter_ns()
            s = connect(timeout=10)
        except (smtplib.SMTPException, OSError):
            return None
        with self.lock:
            if epoch != self.epoch or not self.up.is_set():
                s.close()
                return None
            self.socks[w] = s.sock
        return s

    def worker(self, w):
        rnd = random.Random(self.seed * 1000 + w)
        i, msg, s, count = 0, None, None, 0
        sizes = (200, 900, 3000, 9000, 30000)
        while not self.stop.is_set():
            if not self.up.wait(0.2):
                continue
            if self.stop.is_set():
                break
            if msg is None:
                mid = f"<kill9-{w}-{i}@durability.example.org>"
                msg = text_msg(f"kill9-{w}-{i}", rnd, rnd.choice(sizes))
                with self.lock:
                    self.sent[mid] = msg
            if s is None:
                s = self.session(w)
                count = 0
                if s is None:
                    time.sleep(0.05)
                    continue
            out, info = transact(s, msg)
            with self.lock:
                self.attempts.append((mid, out, info if out == "250"
                                      else None))
                if out not in ("250", "lost"):
                    self.errors.append(f"{mid}: {out} {info!r}")
            count += 1
            if out == "250":
                i, msg = i + 1, None
            if out != "250" or count >= 200:
                # Unknown session state (or the per-connection cap near):
                # a new connection.
                try:
                    s.quit() if out == "250" else s.close()
                except (smtplib.SMTPException, OSError):
                    pass
                with self.lock:
                    self.socks.pop(w, None)
                s = None
        if s is not None:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                pass


def inject_torn_tail(spool, entries):
    """Simulate a write cut short: append the first half of a complete
    record to the newest segment. Returns (file, offset, bytes)."""
    segs = sorted(f for f in os.listdir(spool) if seg_num(f) >= 0)
    need(segs, "no segment files to tear")
    last = f"{spool}/{segs[-1]}"
    src = max(entries, key=lambda e: (seg_num(e["segment"]), e["offset"]))
    with open(src["segment"], "rb") as f:
        f.seek(src["offset"])
        head = f.read(16)
        need(head[:4] == b"SLSP", f"no record at {src['segment']} offset "
             f"{src['offset']}")
        n = int.from_bytes(head[12:16], "little")
        f.seek(src["offset"])
        rec = f.read(n)
    torn = rec[:max(40, len(rec) // 2)]
    off = os.path.getsize(last)
    with open(last, "ab") as f:
        f.write(torn)
    return last, off, len(torn)


def check_kill9():
    name = "durability-kill9"
    spool = f"{A.work}/kill9-spool"
    os.mkdir(spool)
    gw = Gateway("kill9", make_conf(spool, compress="off", load=True))
    rnd = random.Random(A.seed)
    load = Load(20, A.seed)
    inject_from = 2  # the first round from here without a real tail
    natural_tails, injected, kills = [], None, 0
    t0 = time.time()
    try:
        gw.up()
        load.up.set()
        load.start()
        for rnd_no in range(1, A.rounds + 1):
            time.sleep(rnd.uniform(0.6, 2.0))
            pid = gw.kill9()
            load.interrupt()
            note(f"kill9 round {rnd_no}: killed pid {pid} after "
                 f"{len(load.attempts)} attempts")
            kills += 1
            # The spool as the killed writer left it.
            lst, err, rc = spool_list(spool)
            tails, other = reports(err)
            need(rc == 0 and not other, f"round {rnd_no}: sluice-spool list "
                 f"after the kill: exit {rc}, {' | '.join(other)[:300]}")
            for tf, toff, tn in tails:
                need(seg_num(tf) == max(seg_num(x) for x in os.listdir(spool)),
                     f"round {rnd_no}: a torn tail in {tf}, not the newest "
                     "segment")
                natural_tails.append((tf, toff, tn))
            expect_cut = list(tails)
            if rnd_no >= inject_from and injected is None and not tails \
                    and lst:
                injected = inject_torn_tail(spool, lst)
                lst2, err2, rc2 = spool_list(spool)
                tails2, other2 = reports(err2)
                need(rc2 == 0 and not other2 and tails2 == [injected],
                     f"round {rnd_no}: after tearing {injected}: "
                     f"sluice-spool list exit {rc2}, reported "
                     f"{tails2 + other2}")
                need(sorted(e["queue_id"] for e in lst2) ==
                     sorted(e["queue_id"] for e in lst),
                     f"round {rnd_no}: the torn record changed the list")
                expect_cut = [injected]
            gw.down()
            gw.up()
            log = gw.log()  # the new instance's (testnet keeps one .old)
            for tf, toff, tn in expect_cut:
                need(re.search(rf"spool: {re.escape(tf)} at offset {toff}: "
                               rf"torn tail of {tn} bytes cut", log),
                     f"round {rnd_no}: sluiced did not report cutting the "
                     f"torn tail {tf}:{toff} ({tn} bytes) at start")
                need(os.path.getsize(tf) == toff,
                     f"round {rnd_no}: {tf} is {os.path.getsize(tf)} bytes "
                     f"after recovery, want {toff}")
            note(f"kill9 round {rnd_no}: up again, pid {gw.pid}")
            load.up.set()
        time.sleep(1.0)  # load on the last instance
    finally:
        stopped = load.join(60)
        gw.down()
    note(f"kill9: load stopped, {len(load.attempts)} attempts")
    need(stopped, "client threads did not finish within 60 s")
    need(not load.errors, f"{len(load.errors)} unexpected replies, first: "
         f"{load.errors[:1]}")
    need(re.search(r"stopped; 0 mbufs still in use", gw.logs[-1]),
         "the last instance did not stop cleanly on SIGTERM")
    dt = time.time() - t0

    acked, lost = {}, {}
    for mid, out, qid in load.attempts:
        if out == "250":
            need(mid not in acked, f"{mid} got 250 twice (the client stops "
                 "after one)")
            acked[mid] = qid
        else:
            lost[mid] = lost.get(mid, 0) + 1
    # compress: off, so every message is read straight from its segment
    # (checked against the listed SHA-256); sluice-spool export as well
    # for every copy the client got no 250 for and one in 100 of the rest.
    acked_q = set(acked.values())
    by_qid, tails, problems = read_spool(
        spool, load.sent, direct=True,
        export_also=lambda e: e["queue_id"] not in acked_q or
        zlib.crc32(e["queue_id"].encode()) % 100 == 0)
    note(f"kill9: spool read, {len(by_qid)} messages")
    problems += [f"a torn tail left after a clean stop: {t}" for t in tails]
    problems += check_acked(by_qid, acked)
    copies = {}
    for e in by_qid.values():
        if e.get("mid") in load.sent:
            copies[e["mid"]] = copies.get(e["mid"], 0) + 1
    dup_msgs = extra = 0
    for mid, c in copies.items():
        unacked_tries = lost.get(mid, 0)
        allowed = unacked_tries + (1 if mid in acked else 0)
        if c > allowed:
            problems.append(f"{mid}: {c} copies in the spool, but only "
                            f"{allowed} attempts could have left one")
        if c > 1:
            dup_msgs += 1
            extra += c - 1
    done = sum(1 for e in by_qid.values() if e["done"])
    if done:
        problems.append(f"{done} spooled messages marked done (nothing "
                        "marks them in this check)")
    if problems:
        raise CheckFailed(f"{len(problems)} problems, first: "
                          f"{'; '.join(problems[:3])}")
    need(kills == A.rounds and len(acked) > 0, "no kills or no mail")
    unacked_in_spool = sum(1 for e in by_qid.values()
                           if e["mid"] not in acked
                           or acked[e["mid"]] != e["queue_id"])
    inj = (f"a simulated torn tail ({injected[2]} bytes, half a record "
           f"appended to {os.path.basename(injected[0])}) reported by "
           "sluice-spool, cut at restart, never listed" if injected
           else "no simulated tail (every round from 2 had a real one)")
    ok(name, f"{A.rounds} SIGKILLs under load (seed {A.seed}, 20 sessions, "
       f"{dt:.0f}s): {len(load.sent)} messages, {len(load.attempts)} "
       f"attempts, {len(acked)} got 250 and every one is in the spool "
       f"byte-exact under its queue id; {sum(lost.values())} attempts cut "
       f"off without a reply; {unacked_in_spool} spooled copies the client "
       f"never got a 250 for ({dup_msgs} messages spooled more than once, "
       f"{extra} extra copies: at-least-once); nothing unsent in the spool; "
       f"torn tails after kills: {len(natural_tails)} real; {inj}")


# ---- ENOSPC --------------------------------------------------------------------

def avail(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def syncfs(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        LIBC.syncfs(fd)
    finally:
        os.close(fd)


def fill(leave):
    """Grow or shrink <mnt>/filler until about `leave` bytes are free."""
    path = f"{A.mnt}/filler"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        for _ in range(8):
            syncfs(A.mnt)
            delta = avail(A.mnt) - leave
            if abs(delta) < 16384:
                break
            size = os.fstat(fd).st_size
            new = max(0, (size + delta) // 4096 * 4096)
            if delta > 0:
                os.posix_fallocate(fd, 0, new)
            else:
                os.ftruncate(fd, new)
    finally:
        os.close(fd)
    return avail(A.mnt)


def unfill():
    try:
        os.unlink(f"{A.mnt}/filler")
    except FileNotFoundError:
        pass
    syncfs(A.mnt)


def check_enospc():
    name = "durability-enospc"
    K = 1024
    rnd = random.Random(A.seed + 1)
    sent = {}

    def expect_250(tag, msg, spool_acked):
        sent[msgid(msg)] = msg
        out, info = in_ns(send_one, msg)
        need(out == "250", f"{tag}: got {out} {info!r}, want 250")
        spool_acked[msgid(msg)] = info
        return info

    # A: below the floor (the default: 1.5 x the larger of
    # limits.message_size and smtp.max_message_size, both 1 MiB) MAIL
    # FROM gets 452 4.3.1.
    spool_a = f"{A.mnt}/floor-spool"
    os.mkdir(spool_a)
    gw = Gateway("enospc-floor", make_conf(spool_a, message_size="1 MiB",
                                           compress="off"))
    acked_a = {}
    try:
        gw.up()
        for i in range(2):
            expect_250("before the fill", text_msg(f"floor-pre-{i}", rnd,
                                                   2000), acked_a)
        # A transaction that passed MAIL FROM before the disk filled.
        held_msg = text_msg("floor-held", rnd, 2000)
        sent[msgid(held_msg)] = held_msg
        held = in_ns(open_txn)
        mark = len(gw.log())
        left = left_a = fill(1024 * K)
        need(gw.wait_log(r"free space below the floor \((\d+) bytes\)",
                         mark, 5), f"no 'free space below the floor' in the "
             f"log within 5 s ({left} bytes free)")
        floor = int(gw.wait_log(r"below the floor \((\d+) bytes\)", mark,
                                0).group(1))
        need(floor == 1536 * K, f"floor {floor}, want 1.5 MiB (1.5 x "
             "the 1 MiB maximum message size)")
        replies = [in_ns(mail_from_only) for _ in range(3)]
        for code, r in replies:
            need(code == 452 and r.startswith(b"4.3.1"),
                 f"MAIL FROM with {left} bytes free: {code} {r!r}, want "
                 "452 4.3.1")
        # Its message now: the writer refuses it (451), never 250.
        try:
            code, r = held.data(held_msg)
        except smtplib.SMTPResponseException as e:
            code, r = e.smtp_code, e.smtp_error
        finally:
            close_quietly(held)
        need(code == 451 and b"storage" in r,
             f"end of DATA of a transaction begun before the disk filled: "
             f"{code} {r!r}, want 451 ... storage")
        mark = len(gw.log())
        unfill()
        need(gw.wait_log(r"free space back above the floor", mark, 5),
             "no 'free space back above the floor' within 5 s of freeing")
        for i in range(3):
            expect_250("after freeing", text_msg(f"floor-post-{i}", rnd,
                                                 2000), acked_a)
    finally:
        unfill()
        if gw.pid is not None:
            gw.down()
    by_qid, tails, problems = read_spool(spool_a, sent, direct=True,
                                         export_also=lambda e: True)
    problems += check_acked(by_qid, acked_a)
    need(not problems and not tails and len(by_qid) == len(acked_a),
         f"floor spool: {len(by_qid)} messages for {len(acked_a)} 250s; "
         f"{'; '.join(problems[:3])} {tails}")

    # B: space runs out during the write (small floor, messages bigger
    # than what is free): 451 (or 452 once the writer saw the disk full),
    # never 250; after freeing, mail flows again.
    spool_b = f"{A.mnt}/write-spool"
    os.mkdir(spool_b)
    gw = Gateway("enospc-write", make_conf(spool_b, message_size="1 MiB",
                                           floor="64 KiB", compress="off"))
    acked_b = {}
    outs = []
    try:
        gw.up()
        for i in range(2):
            expect_250("before the fill", text_msg(f"write-pre-{i}", rnd,
                                                   2000), acked_b)
        mark = len(gw.log())
        left = fill(600 * K)
        big = [random_msg(f"write-full-{i}", rnd, 900 * K) for i in range(4)]
        for m in big:
            sent[msgid(m)] = m
        outs = in_ns(send_many, big)
        codes = [o for o, _ in outs]
        need("250" not in codes and "250?" not in codes,
             f"with {left} bytes free, 900 KiB messages got {codes}: a 250 "
             "for a message that cannot be on disk")
        n451 = codes.count("451")
        need(n451 >= 1 and all(c in ("451", "452") for c in codes),
             f"with {left} bytes free: {codes}, want 451 (write failed) "
             "or 452 (floor) and at least one 451")
        pat = r"segment ([0-9a-f]{16}): write failed \(No space left on device\)"
        need(gw.wait_log(pat, mark, 5),
             "sluiced logged no 'write failed (No space left on device)'")
        failed_segs = {int(x, 16) for x in re.findall(pat, gw.log()[mark:])}
        failed_seg = max(failed_segs)
        mark = len(gw.log())
        unfill()
        # Mail flows again once the writer sees the space (<= 100 ms).
        end = time.time() + 5
        while True:
            code, r = in_ns(mail_from_only)
            if code == 250 or time.time() > end:
                break
            time.sleep(0.1)
        need(code == 250, f"MAIL FROM 5 s after freeing: {code} {r!r}")
        for i in range(3):
            expect_250("after freeing", random_msg(f"write-post-{i}", rnd,
                                                   900 * K), acked_b)
            expect_250("after freeing", text_msg(f"write-small-{i}", rnd,
                                                 3000), acked_b)
    finally:
        unfill()
        if gw.pid is not None:
            gw.down()
    by_qid, tails, problems = read_spool(spool_b, sent, direct=True,
                                         export_also=lambda e: True)
    problems += check_acked(by_qid, acked_b)
    failed = {msgid(m) for m, (o, _) in zip(big, outs)}
    pending_failed = [e["queue_id"] for e in by_qid.values()
                      if e["mid"] in failed and not e["done"]]
    if pending_failed:
        problems.append(f"messages answered 451/452 pending in the spool "
                        f"(not marked aborted): {pending_failed}")
    post = [by_qid[q] for q in acked_b.values() if q in by_qid and
            re.search(r"write-(post|small)-", by_qid[q]["mid"] or "")]
    if any(seg_num(e["segment"]) <= failed_seg for e in post):
        problems.append(f"mail after the failure went to segment "
                        f"<= {failed_seg:016x}, the failed one")
    bad_tails = [t for t in tails if seg_num(t[0]) not in failed_segs]
    if bad_tails:
        problems.append(f"torn tails outside the failed segment: {bad_tails}")
    need(not problems, "; ".join(problems[:3]))
    ok(name, f"spool on {A.fs}: below the default floor (1.5 MiB = 1.5 x "
       f"the 1 MiB maximum message size, {left_a // K} KiB free) MAIL FROM got 452 "
       f"4.3.1 three times and a transaction begun before got 451 at end "
       f"of DATA, 250 again after freeing; disk full during the "
       f"write (floor 64 KiB, 4 x 900 KiB with {left // K} KiB free): "
       f"replies {' '.join(codes)} (never 250), {len(failed_segs)} "
       f"segment(s) abandoned (partial records left in {len(tails)}, "
       f"reported by sluice-spool as tails, none listed); after freeing 6 "
       f"more "
       f"messages 250'd in a newer segment; "
       f"{len(acked_a) + len(acked_b)} 250'd messages, every one readable "
       f"byte-exact, nothing else in the spools")


# ---- fsync / write errors -------------------------------------------------------

def check_fsync():
    name = "durability-fsync-error"
    rnd = random.Random(A.seed + 2)
    spool = f"{A.work}/fsync-spool"
    os.mkdir(spool)
    trigger = f"{A.work}/fault.trigger"
    flog = f"{A.work}/faultfs.log"
    wrapper = f"{A.work}/bin/sluiced"
    os.makedirs(os.path.dirname(wrapper), exist_ok=True)
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n"
                f"LD_PRELOAD={A.faultfs} FAULTFS_DIR={os.path.realpath(spool)}"
                f" FAULTFS_TRIGGER={trigger} FAULTFS_LOG={flog} "
                f"exec {A.sluiced} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    gw = Gateway("fsync", make_conf(spool), sluiced=wrapper)
    sent, acked, failed = {}, {}, {}

    def batch(tag, n, want):
        msgs = [text_msg(f"{tag}-{i}", rnd, rnd.choice((500, 5000, 20000)))
                for i in range(n)]
        for m in msgs:
            sent[msgid(m)] = m
        outs = in_ns(send_many, msgs)
        for m, (o, info) in zip(msgs, outs):
            need(o == want, f"{tag}: {msgid(m)} got {o} {info!r}, want {want}")
            if o == "250":
                acked[msgid(m)] = info
            else:
                need(info.startswith(b"4.3.0"), f"{tag}: {o} {info!r}, want "
                     "451 4.3.0")
                failed[msgid(m)] = tag
        return outs

    try:
        gw.up()
        maps = open(f"/proc/{gw.pid}/maps").read()
        need(A.faultfs in maps, "faultfs.so is not loaded in sluiced")
        batch("fsync-before", 4, "250")
        with open(flog) as f:
            need(re.search(r"^fdatasync \S+seg-\S+ ok$", f.read(), re.M),
                 "the shim saw no fdatasync on a segment (not intercepted?)")
        with open(trigger, "w") as f:
            f.write("fdatasync\n")
        mark = len(gw.log())
        batch("fsync-fdatasync", 6, "451")
        need(gw.wait_log(r"fdatasync failed \(Input/output error\).*new "
                         r"segment", mark, 2),
             "no 'fdatasync failed (Input/output error)' in the log")
        with open(trigger, "w") as f:
            f.write("writev\n")
        mark = len(gw.log())
        batch("fsync-writev", 4, "451")
        need(gw.wait_log(r"write failed \(Input/output error\)", mark, 2),
             "no 'write failed (Input/output error)' in the log")
        os.unlink(trigger)
        # Stop before any other mail: the aborted marks owed to the failed
        # batches must be written at stop, not wait for a next batch.
        gw.down()
        by_qid, _, problems = read_spool(spool, sent)
        need(not problems, f"after the stop: {'; '.join(problems[:3])}")
        owed = [e["queue_id"] for e in by_qid.values()
                if e["mid"] in failed and not e["done"]]
        need(not owed, f"after a clean stop right after the faults, 451'd "
             f"messages are pending in the spool (no aborted mark): {owed}")
        gw.up()
        batch("fsync-after", 6, "250")
    finally:
        try:
            os.unlink(trigger)
        except FileNotFoundError:
            pass
        if gw.pid is not None:
            gw.down()

    # The shim's log: a segment that failed once is never touched again.
    ops = [l.split() for l in open(flog).read().splitlines()]
    dead, problems = {}, []
    for i, (op, path, res) in enumerate(ops):
        if path in dead:
            problems.append(f"{op} on {os.path.basename(path)} after its "
                            f"{dead[path]} failed")
        if res == "EIO":
            dead[path] = op
    last_eio = max((i for i, o in enumerate(ops) if o[2] == "EIO"),
                   default=None)
    ok_after = [] if last_eio is None else \
        [p for op, p, r in ops[last_eio:] if r == "ok"]
    if not ok_after or any(seg_num(p) <= max(seg_num(d) for d in dead)
                           for p in ok_after):
        problems.append("no successful write after the faults in a segment "
                        "newer than every failed one")
    by_qid, tails, p2 = read_spool(spool, sent)
    problems += p2 + check_acked(by_qid, acked)
    present = [e for e in by_qid.values() if e["mid"] in failed]
    pending = [e["queue_id"] for e in present if not e["done"]]
    if pending:
        problems.append(f"451'd messages pending in the spool (no aborted "
                        f"mark): {pending}")
    fsync_present = sum(1 for e in present
                        if failed[e["mid"]] == "fsync-fdatasync")
    if fsync_present == 0:
        problems.append("none of the messages whose fdatasync failed is in "
                        "the abandoned segment (the write before it "
                        "succeeded, so they should be, marked aborted)")
    bad_tails = [t for t in tails if t[0] not in dead]
    if bad_tails:
        problems.append(f"torn tails in segments that never failed: "
                        f"{bad_tails}")
    need(not problems, f"{len(problems)} problems: {'; '.join(problems[:3])}")
    nfs = sum(1 for v in dead.values() if v == "fdatasync")
    ok(name, f"mechanism: LD_PRELOAD shim faultfs.so (EIO from fdatasync/"
       f"writev on seg-*.spool while a trigger file exists; {A.dm}): 6 "
       f"messages during fdatasync errors and 4 during writev errors all "
       f"got 451 4.3.0, never 250; {len(dead)} segments failed ({nfs} by "
       f"fdatasync) and none was written or synced again; a clean stop "
       f"right after wrote the aborted marks; after a restart mail flowed "
       f"again in a new segment; {len(acked)} 250'd messages byte-exact in "
       f"the spool; {len(present)} of the 451'd messages are in abandoned "
       f"segments, every one marked done (aborted)")


CHECKS = {"kill9": ("durability-kill9", check_kill9),
          "enospc": ("durability-enospc", check_enospc),
          "fsync": ("durability-fsync-error", check_fsync)}


def main():
    global A
    p = argparse.ArgumentParser()
    for o in ("root", "sluiced", "tool", "work", "ns", "run-dir", "mnt", "fs",
              "faultfs", "dm"):
        p.add_argument(f"--{o}", required=True)
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("checks", nargs="*")
    A = p.parse_args()
    for c in A.checks or list(CHECKS):
        name, fn = CHECKS[c]
        t = time.time()
        try:
            fn()
        except CheckFailed as e:
            fail(name, str(e))
        except Exception as e:  # noqa: BLE001
            fail(name, f"{type(e).__name__}: {e}")
        print(f"  ({name}: {time.time() - t:.1f}s)", flush=True)


if __name__ == "__main__":
    main()
