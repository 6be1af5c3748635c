#!/usr/bin/env python3
"""Generate the crafted message corpus in tests/corpus/.

Each message tests one thing the scanner must see through (an encoding, a
container, a broken structure, an ambiguity, a limit). The expected verdict
of every file is in tests/corpus/EXPECTED. Run from anywhere:
    python3 tests/corpus/make_corpus.py
The output is committed; this script documents how it was made.
"""
import base64
import hashlib
import os
import quopri
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width))


def write(name, text):
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogateescape")
    text = text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(text)


def head(subject, extra="", ct=None):
    h = ("From: Sender <sender@example.org>\n"
         "To: bob@example.net\n"
         f"Subject: {subject}\n"
         "Date: Mon, 23 Nov 2026 10:00:00 +0000\n"
         f"Message-ID: <{hashlib.sha1(subject.encode()).hexdigest()[:16]}@example.org>\n"
         "MIME-Version: 1.0\n")
    if ct:
        h += f"Content-Type: {ct}\n"
    return h + extra


def uuencode(data, name="file.bin"):
    out = [f"begin 644 {name}"]
    for i in range(0, len(data), 45):
        chunk = data[i:i + 45]
        line = chr(32 + len(chunk))
        for j in range(0, len(chunk), 3):
            b = chunk[j:j + 3].ljust(3, b"\0")
            n = (b[0] << 16) | (b[1] << 8) | b[2]
            for k in (18, 12, 6, 0):
                c = (n >> k) & 63
                line += chr(96 if c == 0 else 32 + c)
        out.append(line)
    out += ["`", "end"]
    return "\n".join(out)


def crc_binhex(data, crc=0):
    """CRC-CCITT (XMODEM), as binascii.crc_hqx: what BinHex 4.0 stores."""
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def binhex(data, name="file.bin"):
    nm = name.encode()
    hdr = bytes([len(nm)]) + nm + b"\0" + b"BINA" + b"????" + b"\0\0"
    hdr += struct.pack(">II", len(data), 0)
    stream = hdr + struct.pack(">H", crc_binhex(hdr))
    stream += data + struct.pack(">H", crc_binhex(data))
    stream += struct.pack(">H", 0)  # empty resource fork: CRC of nothing
    # RLE: escape literal 0x90 as 0x90 0x00 (no run compression needed).
    rle = stream.replace(b"\x90", b"\x90\x00")
    alphabet = ("!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`"
                "abcdefhijklmpqr")
    bits, nbits, enc = 0, 0, ""
    for b in rle:
        bits = (bits << 8) | b
        nbits += 8
        while nbits >= 6:
            nbits -= 6
            enc += alphabet[(bits >> nbits) & 63]
    if nbits:
        enc += alphabet[(bits << (6 - nbits)) & 63]
    body = ":" + enc + ":"
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "(This file must be converted with BinHex 4.0)\n\n" + "\n".join(lines)


def tnef(files):
    def attr(level, attr_id, data):
        return (bytes([level]) + struct.pack("<II", attr_id, len(data)) + data
                + struct.pack("<H", sum(data) & 0xFFFF))
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += attr(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
    for name, data in files:
        out += attr(2, 0x00069002, b"\0" * 14)         # attAttachRendData
        out += attr(2, 0x00018010, name.encode() + b"\0")  # attAttachTitle
        out += attr(2, 0x0006800F, data)               # attAttachData
    return out


def multipart(subject, parts, boundary="b0undary", extra=""):
    msg = head(subject, extra, f'multipart/mixed; boundary="{boundary}"')
    msg += "\nThis is a multi-part message in MIME format.\n"
    for p in parts:
        msg += f"\n--{boundary}\n{p}"
    msg += f"\n--{boundary}--\n"
    return msg


def attachment(data, name, ct="application/octet-stream"):
    return (f'Content-Type: {ct}; name="{name}"\n'
            f'Content-Disposition: attachment; filename="{name}"\n'
            "Content-Transfer-Encoding: base64\n\n" + b64(data) + "\n")


TEXT = "Content-Type: text/plain; charset=us-ascii\n\nHello, see attached.\n"

# -- viruses behind every encoding and container the scanner must open ----
write("virus-base64-nested-rfc822.eml", multipart("forwarded", [
    TEXT,
    "Content-Type: message/rfc822\n\n" + multipart(
        "inner", [TEXT, attachment(EICAR, "inner.bin")], boundary="inner1"),
]))
inner = multipart("inner", [TEXT, attachment(EICAR, "inner.bin")],
                  boundary="inner2").replace("\n", "\r\n")
write("virus-encoded-rfc822.eml", multipart("forwarded as base64", [
    TEXT, "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
    + b64(inner.encode()) + "\n"]))
write("virus-uuencode-in-text.eml",
      head("uu") + "Content-Type: text/plain\n\nSee below.\n\n"
      + uuencode(EICAR, "eicar.com") + "\n\nbye\n")
write("virus-binhex.eml",
      head("binhex") + "Content-Type: text/plain\n\n" + binhex(EICAR, "eicar.com") + "\n")
write("virus-tnef.eml", multipart("tnef", [
    TEXT, attachment(tnef([("report.doc", EICAR)]), "winmail.dat",
                     "application/ms-tnef")]))
write("virus-qp.eml", head("qp") +
      "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
      + quopri.encodestring(EICAR, quotetabs=True).decode().replace("=\n", "=\r\n") + "\n")
garbled = b64(EICAR).replace("Q", "Q!*", 2)
write("virus-base64-garbage.eml", multipart("garbage", [
    TEXT, 'Content-Type: application/octet-stream; name="x.bin"\n'
    "Content-Transfer-Encoding: base64\n\n" + garbled + "\n"]))
# Data after base64 padding: decoders that stop at '=' see exactly EICAR
# (its SHA-256 matches), decoders that go on see more bytes. Both readings.
write("virus-base64-after-padding.eml", multipart("padding", [
    TEXT, 'Content-Type: application/octet-stream; name="p.bin"\n'
    "Content-Transfer-Encoding: base64\n\n" + b64(EICAR) + "\n"
    + base64.b64encode(b"more data after the padding").decode() + "\n"]))
write("virus-unclosed-multipart.eml",
      head("unclosed", ct='multipart/mixed; boundary="zz"') +
      "\n--zz\n" + TEXT + "\n--zz\n" + attachment(EICAR, "a.bin"))
write("virus-duplicate-boundary.eml",
      head("dup boundary", ct='multipart/mixed; boundary="one"; boundary="two"') +
      "\n--one\n" + TEXT + "\n--two\n" + attachment(EICAR, "b.bin") +
      "\n--two--\n--one--\n")
write("virus-conflicting-cte.eml", head("cte") +
      "Content-Type: application/octet-stream\n"
      "Content-Transfer-Encoding: 7bit\n"
      "Content-Transfer-Encoding: base64\n\n" + b64(EICAR) + "\n")
write("virus-no-part-headers.eml",
      head("noheaders", ct='multipart/mixed; boundary="nh"') +
      "\n--nh\n\n" + EICAR.decode() + "\n--nh--\n")
write("virus-preamble.eml",
      head("preamble", ct='multipart/mixed; boundary="pp"') +
      "\n" + EICAR.decode() + "\n--pp\n" + TEXT + "\n--pp--\n")

# -- attachments blocked by name or by true type --------------------------
pe = bytearray(512)
pe[0:2] = b"MZ"
pe[0x3C:0x40] = (0x40).to_bytes(4, "little")
pe[0x40:0x44] = b"PE\0\0"
pe = bytes(pe)
write("attach-rfc2231-exe.eml", multipart("2231", [TEXT,
      "Content-Type: application/octet-stream\n"
      "Content-Disposition: attachment; filename*0*=utf-8''%72%65%70%6F;"
      " filename*1=\"rt.exe\"\n"
      "Content-Transfer-Encoding: base64\n\n" + b64(b"harmless bytes") + "\n"]))
write("attach-rfc2047-scr.eml", multipart("2047", [TEXT,
      "Content-Type: application/octet-stream;\n"
      " name=\"=?utf-8?B?" + base64.b64encode("фото.scr".encode()).decode() + "?=\"\n"
      "Content-Transfer-Encoding: base64\n\n" + b64(b"harmless bytes") + "\n"]))
write("attach-double-extension.eml", multipart("double", [
    TEXT, attachment(b"harmless bytes", "invoice.pdf.exe")]))
write("attach-renamed-pe.eml", multipart("renamed", [
    TEXT, attachment(pe, "report.pdf", "application/pdf")]))

# -- limits and structure ---------------------------------------------------
deep = TEXT
for i in range(40):
    deep = (f'Content-Type: multipart/mixed; boundary="d{i}"\n\n'
            f"--d{i}\n{deep}\n--d{i}--\n")
write("limit-deep-nesting.eml", head("deep") + deep)
many = "".join(f"\n--m\nContent-Type: text/plain\n\npart {i}\n" for i in range(1500))
write("limit-many-parts.eml",
      head("many", ct='multipart/mixed; boundary="m"') + many + "\n--m--\n")

# -- clean mail that must stay clean -----------------------------------------
write("clean-plain.eml", head("lunch?") + "Content-Type: text/plain\n\n"
      "Lunch at noon on Friday? The usual place.\n")
write("clean-pdf-attachment.eml", multipart("the report", [
    TEXT, attachment(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
                     "report.pdf", "application/pdf")]))
write("clean-8bit-headers.eml",
      b"From: J\xc3\xbcrgen <j@example.org>\nTo: bob@example.net\n"
      b"Subject: Gr\xc3\xbc\xc3\x9fe\n\nHallo Bob.\n")
write("malformed-nul-in-header.eml",
      b"From: j@example.org\nTo: bob@example.net\nSubject: hi\x00there\n"
      b"\nHallo Bob.\n")
write("clean-newsletter-html.eml", head("November newsletter",
      ct="text/html; charset=utf-8") + "\n<html><body><h1>News</h1>"
      "<p>Our office moves to the <b>new building</b> on Monday.</p>"
      "<p><a href=\"https://example.org/map\">Map</a></p></body></html>\n")

# -- content rules and spam behind encodings, charsets and markup ------------
write("content-phishing-latin1-qp.eml", head("Action required",
      ct="text/plain; charset=iso-8859-1") +
      "Content-Transfer-Encoding: quoted-printable\n\n"
      "Ch=E8re cliente, please verify your account within 24 hours or it\n"
      "will be closed.\n")
write("content-phishing-html-entities.eml", head("Notice",
      ct="text/html; charset=utf-8") +
      "\n<html><body><p>Your <span>mail</span>box is f&#117;ll&#x21;</p>"
      "<!-- your mailbox is fine --></body></html>\n")
write("content-outgoing-leak.eml",
      "From: alice@example.net\nTo: partner@example.com\nSubject: numbers\n"
      "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"L\"\n\n"
      "--L\nContent-Type: text/plain\n\nsee attached\n--L\n" +
      attachment(b"Q3 figures\nCONFIDENTIAL - INTERNAL ONLY\nrevenue: 42\n",
                 "q3.txt", "text/plain") + "--L--\n")
# A keyword expression whose terms sit in three different parts: "invoice"
# in the subject, "bank details have changed" in the qp body, the IBAN in
# a text attachment.
write("content-invoice-fraud-split.eml", head(
      "Invoice INV-4411 overdue", ct="multipart/mixed; boundary=\"F\"") +
      "\n--F\nContent-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n\n" +
      quopri.encodestring("Dear customer,\nplease note that our bank details "
                          "have changed.\nPay the attached invoice by Friday.\n"
                          .encode()).decode() +
      "\n--F\n" +
      attachment(b"Beneficiary: Acme Supplies Ltd\nIBAN: GB33 BUKB 2020 1555 "
                 b"5555 55\nAmount: 18,400.00 EUR\n", "payment.txt",
                 "text/plain") + "--F--\n")
write("spam-subject-2047-utf16.eml",
      "From: promo@example.com\nTo: bob@example.net\n"
      "Subject: =?utf-8?Q?You_are_a_WINNER?=\nMIME-Version: 1.0\n"
      "Content-Type: text/plain; charset=utf-16\n"
      "Content-Transfer-Encoding: base64\n\n" +
      b64("Act now: claim your prize, 100% free!\n".encode("utf-16")) + "\n")
print("corpus written to", HERE)


# ---- Archives (issue 5): members are leaves; bombs, encryption ----------

import io
import zipfile
import zlib


def zipped(files, level=zipfile.ZIP_DEFLATED):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", level) as z:
        for name, data in files:
            z.writestr(zipfile.ZipInfo(name, (2026, 11, 23, 10, 0, 0)), data,
                       compress_type=level)
    return bio.getvalue()


def zipcrypto(name, data, password=b"infected"):
    """One stored member under PKWARE traditional encryption (what
    'zip -P' writes): the password protects the data, not the name."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_byte(crc, b):
        return zlib.crc32(bytes([b]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(b):
        keys[0] = crc_byte(keys[0], b)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    for b in password:
        update(b)
    crc = zlib.crc32(data)
    plain = bytes(range(1, 12)) + bytes([crc >> 24]) + data
    enc = bytearray()
    for b in plain:
        t = (keys[2] | 2) & 0xFFFF
        enc.append(b ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        update(b)
    nm = name.encode()
    dos_time, dos_date = 0x5000, 0x5B77
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 1, 0, dos_time,
                        dos_date, crc, len(enc), len(data), len(nm), 0) + nm
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 1, 0,
                          dos_time, dos_date, crc, len(enc), len(data),
                          len(nm), 0, 0, 0, 0, 0, 0) + nm
    body = local + bytes(enc)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central),
                       len(body), 0)
    return body + central + eocd


def overlap_zip(count, size):
    """Fifield's non-recursive bomb: one deflate stream of `size` zeros,
    `count` central directory entries all pointing at it."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = co.compress(b"\0" * size) + co.flush()
    crc = zlib.crc32(b"\0" * size)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x5B77, crc,
                        len(stream), size, 1, 0) + b"k"
    body = local + stream
    central = b""
    for i in range(count):
        nm = str(i).encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0,
                               8, 0, 0x5B77, crc, len(stream), size,
                               len(nm), 0, 0, 0, 0, 0, 0) + nm
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count,
                       len(central), len(body), 0)
    return body + central + eocd


TEXT_ARC = ("Content-Type: text/plain; charset=us-ascii\n\n"
            "Please find the documents attached.\n")
write("virus-zip.eml", multipart("invoice", [
    TEXT_ARC,
    attachment(zipped([("docs/readme.txt", b"see the invoice\n"),
                       ("docs/eicar.com", EICAR)]), "invoice.zip",
               "application/zip")]))
inner = zipped([("eicar.com", EICAR)])
for k in range(2, 6):
    inner = zipped([(f"layer{k - 1}.zip", inner)])
write("virus-zip-in-zip.eml", multipart("five layers", [
    TEXT_ARC, attachment(inner, "archive.zip", "application/zip")]))
def targz(files):
    import tarfile
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), 1795000000
            t.addfile(ti, io.BytesIO(data))
    # gzip here, not by tarfile: its header would carry today's time.
    return __import__("gzip").compress(bio.getvalue(), mtime=0)


write("virus-tar-gz.eml", multipart("tarball", [
    TEXT_ARC, attachment(targz([("src/eicar.com", EICAR)]), "src.tar.gz",
                         "application/gzip")]))
write("virus-gz.eml", multipart("compressed", [
    TEXT_ARC, attachment(__import__("gzip").compress(EICAR, mtime=0),
                         "eicar.com.gz", "application/gzip")]))
write("encrypted-zip.eml", multipart("password is 1234", [
    TEXT_ARC, attachment(zipcrypto("invoice.pdf", b"%PDF-1.4\n" + EICAR),
                         "invoice.zip", "application/zip")]))
# The name of an encrypted member is not encrypted: the attachment filter
# still sees the .exe.
write("encrypted-zip-exe.eml", multipart("password is 1234", [
    TEXT_ARC, attachment(zipcrypto("invoice.pdf.exe", b"MZ" + b"\0" * 200),
                         "invoice.zip", "application/zip")]))
write("attach-exe-in-zip.eml", multipart("photos", [
    TEXT_ARC, attachment(zipped([("photos/IMG_0001.jpg.exe",
                                  b"MZ" + b"\0" * 300)]), "photos.zip",
                         "application/zip")]))
zeros = zipped([("zeros.bin", b"\0" * (64 << 20))])
bomb = zipped([(f"{i:x}.zip", zeros) for i in range(16)])
write("limit-zip-bomb.eml", multipart("42", [
    TEXT_ARC, attachment(bomb, "42.zip", "application/zip")]))
write("malformed-zip-overlap.eml", multipart("overlap", [
    TEXT_ARC, attachment(overlap_zip(2000, 1 << 20), "overlap.zip",
                         "application/zip")]))
# A forwarded message saved as .eml and zipped: its base64 attachment is
# decoded like the outer message's.
saved = multipart("the original", [TEXT_ARC, attachment(EICAR, "tool.com")])
write("virus-eml-in-zip.eml", multipart("fwd", [
    TEXT_ARC, attachment(zipped([("mail/original.eml",
                                  saved.replace("\n", "\r\n").encode())]),
                         "forward.zip", "application/zip")]))
# Two zips back to back: the central directory lists the second (what
# 7-Zip and Explorer show), a streaming extractor finds the first.
write("virus-zip-concatenated.eml", multipart("two in one", [
    TEXT_ARC, attachment(zipped([("hidden/eicar.com", EICAR)]) +
                         zipped([("readme.txt", b"nothing here\n")]),
                         "docs.zip", "application/zip")]))
# Zip-slip: a member name that climbs out of the extraction directory.
write("attach-zip-slip.eml", multipart("update", [
    TEXT_ARC, attachment(zipped([("../../Startup/update.exe",
                                  b"MZ" + b"\0" * 100)]),
                         "update.zip", "application/zip")]))


# libclamav (issue 5): an OLE2 workbook with an Excel 4.0 macro sheet (a
# BOUNDSHEET of type 1), as tests/unit/test_clam.c builds it; libclamav's
# OLE2 heuristic makes it a `macro` finding, quarantined in area macro.
def xls_macro():
    f = bytearray(512 * 11)
    f[0:8] = bytes.fromhex("d0cf11e0a1b11ae1")
    struct.pack_into("<HHHHH", f, 24, 0x3e, 3, 0xfffe, 9, 6)
    struct.pack_into("<I", f, 44, 1)
    struct.pack_into("<I", f, 48, 1)
    struct.pack_into("<I", f, 56, 4096)
    struct.pack_into("<I", f, 60, 0xfffffffe)
    struct.pack_into("<I", f, 68, 0xfffffffe)
    struct.pack_into("<I", f, 76, 0)
    for i in range(1, 109):
        struct.pack_into("<I", f, 76 + 4 * i, 0xffffffff)
    for i in range(128):
        struct.pack_into("<I", f, 512 + 4 * i, 0xffffffff)
    struct.pack_into("<II", f, 512, 0xfffffffd, 0xfffffffe)
    for s in range(2, 9):
        struct.pack_into("<I", f, 512 + 4 * s, s + 1)
    struct.pack_into("<I", f, 512 + 36, 0xfffffffe)

    def dirent(off, name, typ, child, start, size):
        for i, ch in enumerate(name):
            struct.pack_into("<H", f, off + 2 * i, ord(ch))
        struct.pack_into("<H", f, off + 64, 2 * len(name) + 2)
        f[off + 66] = typ
        f[off + 67] = 1
        struct.pack_into("<III", f, off + 68, 0xffffffff, 0xffffffff, child)
        struct.pack_into("<II", f, off + 116, start, size)
    dirent(1024, "Root Entry", 5, 1, 0xfffffffe, 0)
    dirent(1024 + 128, "Workbook", 2, 0xffffffff, 2, 4096)
    for i in (2, 3):
        struct.pack_into("<III", f, 1024 + 128 * i + 68,
                         0xffffffff, 0xffffffff, 0xffffffff)
    w = 1536
    bof = bytes([0x09, 0x08, 0x10, 0x00, 0x00, 0x06, 0x05, 0x00]) + bytes(12)
    bs = bytes([0x85, 0x00, 0x0e, 0x00, 0, 0, 0, 0, 0, 0x01, 0x06, 0x00]) + \
        b"Macro1"
    f[w:w + len(bof)] = bof
    f[w + len(bof):w + len(bof) + len(bs)] = bs
    e = w + len(bof) + len(bs)
    f[e:e + 4] = bytes([0x0a, 0x00, 0x00, 0x00])
    return bytes(f)


write("macro-xls.eml", multipart("quarterly figures", [
    TEXT_ARC, attachment(xls_macro(), "figures.xls",
                         "application/vnd.ms-excel")]))


# Our own macro and name checks (scan/ole2.c, scan_macro.c, fname.c):
# a docm sent as "invoice.doc" (Word opens it by content; the name
# pattern *.docm does not see it) with word/vbaProject.bin, whose OLE2
# directory holds a VBA storage with dir and _VBA_PROJECT.
def vba_project_bin():
    f = bytearray(512 * 3)
    f[0:8] = bytes.fromhex("d0cf11e0a1b11ae1")
    struct.pack_into("<HHHHH", f, 24, 0x3e, 3, 0xfffe, 9, 6)
    struct.pack_into("<IIII", f, 44, 1, 1, 0, 0)
    struct.pack_into("<IIIII", f, 56, 4096, 0xfffffffe, 0, 0xfffffffe, 0)
    struct.pack_into("<I", f, 76, 0)
    for i in range(1, 109):
        struct.pack_into("<I", f, 76 + 4 * i, 0xffffffff)
    for i in range(128):
        struct.pack_into("<I", f, 512 + 4 * i, 0xffffffff)
    struct.pack_into("<II", f, 512, 0xfffffffd, 0xfffffffe)

    def dirent(i, name, typ, left, right, child):
        off = 1024 + 128 * i
        for k, ch in enumerate(name):
            struct.pack_into("<H", f, off + 2 * k, ord(ch))
        struct.pack_into("<H", f, off + 64, 2 * len(name) + 2)
        f[off + 66] = typ
        f[off + 67] = 1
        struct.pack_into("<III", f, off + 68, left, right, child)
        struct.pack_into("<II", f, off + 116, 0xfffffffe, 0)
    N = 0xffffffff
    dirent(0, "Root Entry", 5, N, N, 1)
    dirent(1, "VBA", 1, N, 2, 3)
    dirent(2, "PROJECT", 2, N, N, N)
    dirent(3, "dir", 2, N, N, N)
    return bytes(f)


CT_DOCM = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
           b'content-types"><Default Extension="bin" ContentType="application/'
           b'vnd.ms-office.vbaProject"/><Override PartName="/word/document.xml"'
           b' ContentType="application/vnd.ms-word.document.macroEnabled.main'
           b'+xml"/></Types>')
write("macro-docm.eml", multipart("invoice attached", [
    TEXT_ARC, attachment(zipped([
        ("[Content_Types].xml", CT_DOCM),
        ("word/document.xml", b'<?xml version="1.0"?><w:document xmlns:w='
         b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
         b'<w:body/></w:document>'),
        ("word/vbaProject.bin", vba_project_bin())]), "invoice.doc",
        "application/msword")]))

# A name with a right-to-left override: shown as "reportlpc.pdf", saved
# as report<RLO>fdp.cpl (cpl is not in the extension list).
write("attach-bidi-name.eml", multipart("report", [
    TEXT, "Content-Type: application/octet-stream\n"
    "Content-Disposition: attachment;\n"
    " filename*=UTF-8''report%E2%80%AEfdp.cpl\n"
    "Content-Transfer-Encoding: base64\n\n" + b64(b"quarterly report\n") +
    "\n"]))

# A decoy extension padded out of view before a dangerous one.
write("attach-padded-extension.eml", multipart("scan", [
    TEXT, attachment(b"not really a picture\n",
                     "scan.jpg                    .cpl")]))
