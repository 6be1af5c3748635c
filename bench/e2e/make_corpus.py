#!/usr/bin/python3
"""bench/e2e/make_corpus.py - the reproducible .eml corpus of bench/e2e-compare.

    make_corpus.py --out DIR [-n FILES] [--seed N] [--eicar-pct P]

Writes DIR/0000.eml ... and DIR/list (one path a line, in replay order),
DIR/kinds (file name and kind a line). The same options give the same
bytes. The mix, per file (kind chosen at random with these weights):

  text    45%  text/plain, 1-20 KB (log-uniform), 7bit or (30%)
               quoted-printable
  html    25%  multipart/alternative: a short text part and an HTML part of
               10-100 KB, quoted-printable or base64
  attach  28%  multipart/mixed: 1-4 KB of text and 1-2 base64 attachments
               of 10-500 KB each (log-uniform): PDF-like (text objects and
               random binary streams) or JPEG-like (JFIF header, random
               data)
  eicar    2%  (--eicar-pct) config/samples/eicar.eml with its own
               Message-ID: the EICAR test file, base64, as an attachment

The words come from a neutral vocabulary that none of the bundled
config's content rules or spam keywords match, and no attachment has a
blocked name or file type, so every system must accept every message but
the EICAR ones (which the scanning systems must reject). All ASCII, lines
under 1000 octets.
"""
import argparse
import base64
import math
import os
import quopri
import random

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EICAR_SAMPLE = os.path.join(ROOT, "config", "samples", "eicar.eml")

WORDS = """the a of and to in for on with at by from about meeting schedule project
budget report quarter team review draft update plan agenda notes minutes design
release build test result summary customer order shipment delivery warehouse
contract proposal timeline milestone office travel lunch room calendar week month
morning afternoon evening thanks regards please attached figures numbers chart
slide deck feedback question answer issue ticket support service network server
storage backup policy training course workshop library garden weather holiday
station train bus bridge river mountain city village coffee tea paper pencil
window table chair kitchen market price cost estimate forecast analysis data""".split()
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
         "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent"]


def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def sentence(rng):
    w = [rng.choice(WORDS) for _ in range(rng.randint(6, 16))]
    return w[0].capitalize() + " " + " ".join(w[1:]) + "."


def text(rng, size):
    """Paragraphs of wrapped lines (<= 72 columns), about size bytes."""
    out, n = [], 0
    while n < size:
        para, line = [], ""
        for _ in range(rng.randint(2, 6)):
            for word in sentence(rng).split():
                if len(line) + len(word) + 1 > 72:
                    para.append(line)
                    line = word
                else:
                    line = word if not line else line + " " + word
        para.append(line)
        block = "\n".join(para) + "\n\n"
        out.append(block)
        n += len(block)
    return "".join(out)


def html(rng, size):
    out, n = ["<html><head><title>%s</title></head><body>\n" % sentence(rng)], 0
    while n < size:
        block = "<p style=\"font-family: sans-serif\">%s %s</p>\n" % (sentence(rng), sentence(rng))
        if rng.random() < 0.2:
            block += "<table><tr><td>%s</td><td>%d</td></tr></table>\n" % (
                rng.choice(WORDS), rng.randint(1, 99999))
        out.append(block)
        n += len(block)
    out.append("</body></html>\n")
    return "".join(out)


def wrap76(b64):
    return "\n".join(b64[i:i + 76] for i in range(0, len(b64), 76)) + "\n"


def qp(s):
    return quopri.encodestring(s.encode()).decode()


def pdf_like(rng, size):
    parts, n, obj = [b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"], 0, 1
    while n < size:
        if rng.random() < 0.4:
            body = ("BT /F1 12 Tf 72 712 Td (%s) Tj ET" % sentence(rng)).encode()
        else:
            body = rng.randbytes(rng.randint(2000, 20000))
        o = b"%d 0 obj\n<< /Length %d >>\nstream\n" % (obj, len(body)) + body + b"\nendstream\nendobj\n"
        parts.append(o)
        n += len(o)
        obj += 1
    parts.append(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
    return b"".join(parts)


def jpeg_like(rng, size):
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return head + rng.randbytes(max(0, size - len(head) - 2)) + b"\xff\xd9"


def headers(rng, i, seed, subject, ctype):
    sender = rng.choice(NAMES)
    return ("From: %s <%s@example.org>\nTo: user@example.net\nSubject: %s\n"
            "Date: Mon, 23 Nov 2026 %02d:%02d:%02d +0000\n"
            "Message-ID: <e2e-%d-%d@bench.example.org>\nMIME-Version: 1.0\n%s\n"
            % (sender.capitalize(), sender, subject, rng.randint(0, 23), rng.randint(0, 59),
               rng.randint(0, 59), seed, i, ctype))


def make(rng, i, seed, kind, eicar):
    subj = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))).capitalize()
    if kind == "eicar":
        return eicar.replace("<eicar-1@example.com>", "<e2e-eicar-%d-%d@bench.example.org>"
                             % (seed, i))
    if kind == "text":
        body = text(rng, log_uniform(rng, 1000, 20000))
        if rng.random() < 0.3:
            return headers(rng, i, seed, subj, "Content-Type: text/plain; charset=us-ascii\n"
                           "Content-Transfer-Encoding: quoted-printable\n") + "\n" + qp(body)
        return headers(rng, i, seed, subj, "Content-Type: text/plain; charset=us-ascii\n"
                       "Content-Transfer-Encoding: 7bit\n") + "\n" + body
    b = "==b%d-%d==" % (seed, i)
    if kind == "html":
        h = html(rng, log_uniform(rng, 10000, 100000))
        if rng.random() < 0.5:
            enc, hb = "quoted-printable", qp(h)
        else:
            enc, hb = "base64", wrap76(base64.b64encode(h.encode()).decode())
        return (headers(rng, i, seed, subj, "Content-Type: multipart/alternative; boundary=\"%s\"\n" % b)
                + "\n--%s\nContent-Type: text/plain; charset=us-ascii\n\n%s"
                "\n--%s\nContent-Type: text/html; charset=us-ascii\n"
                "Content-Transfer-Encoding: %s\n\n%s\n--%s--\n"
                % (b, text(rng, 800), b, enc, hb, b))
    out = [headers(rng, i, seed, subj, "Content-Type: multipart/mixed; boundary=\"%s\"\n" % b),
           "\n--%s\nContent-Type: text/plain; charset=us-ascii\n\n%s" % (b, text(rng, rng.randint(1000, 4000)))]
    for k in range(rng.randint(1, 2)):
        size = log_uniform(rng, 10000, 500000)
        if rng.random() < 0.5:
            data, ct, name = pdf_like(rng, size), "application/pdf", "report-%d-%d.pdf" % (i, k)
        else:
            data, ct, name = jpeg_like(rng, size), "image/jpeg", "photo-%d-%d.jpg" % (i, k)
        out.append("\n--%s\nContent-Type: %s; name=\"%s\"\nContent-Disposition: attachment; "
                   "filename=\"%s\"\nContent-Transfer-Encoding: base64\n\n%s"
                   % (b, ct, name, name, wrap76(base64.b64encode(data).decode())))
    out.append("\n--%s--\n" % b)
    return "".join(out)


def generate(out, n, seed, eicar_pct):
    rng = random.Random(seed)
    with open(EICAR_SAMPLE) as f:
        eicar = f.read()
    os.makedirs(out, exist_ok=True)
    paths, kinds = [], []
    other = 100.0 - eicar_pct
    for i in range(n):
        x = rng.uniform(0, 100)
        if x < eicar_pct:
            kind = "eicar"
        else:
            x = (x - eicar_pct) / other
            kind = "text" if x < 0.45 / 0.98 else "html" if x < 0.70 / 0.98 else "attach"
        p = os.path.join(out, "%04d.eml" % i)
        with open(p, "w", newline="\n") as f:
            f.write(make(rng, i, seed, kind, eicar))
        paths.append(p)
        kinds.append(kind)
    with open(os.path.join(out, "list"), "w") as f:
        f.write("".join(p + "\n" for p in paths))
    with open(os.path.join(out, "kinds"), "w") as f:
        f.write("".join("%s %s\n" % (os.path.basename(p), k) for p, k in zip(paths, kinds)))
    return paths, kinds


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eicar-pct", type=float, default=2.0)
    a = ap.parse_args()
    paths, kinds = generate(a.out, a.n, a.seed, a.eicar_pct)
    total = sum(os.path.getsize(p) for p in paths)
    print("%d files, %.1f MB, %s" % (len(paths), total / 1e6,
          ", ".join("%s %d" % (k, kinds.count(k)) for k in ("text", "html", "attach", "eicar"))))


if __name__ == "__main__":
    main()
