/* tests/unit/test_archive.c - scan/archive.c and scan/scan_archive.c
 *
 * Archives are built here with libarchive's write API (and by hand for
 * rar, lha and the zips no writer produces), so there are no binary
 * fixtures; the clamav-testfiles package (scripts/install-deps) adds
 * real-world samples, cab among them.
 */
#include "scan/archive.h"
#include "scan/filetype.h"
#include "scan/policy.h"
#include "scan/scan.h"
#include "tests/unit/check.h"
#include "tests/unit/out_fixture.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define RND_SEED 0x3c6ef372fe94f82bull
#include "tests/unit/rnd.h"

static const char eicar[] =
	"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
#define EICAR_LEN (sizeof(eicar) - 1)

/* --- building archives --------------------------------------------------- */

static la_ssize_t write_cb(struct archive *a, void *ud, const void *buf,
			   size_t len)
{
	(void)a;
	out_put(ud, buf, len);
	return (la_ssize_t)len;
}

struct ent {
	const char *name;
	const void *data; /* NULL: `len` zero bytes */
	size_t len;
};

/* Write entries as format `fmt` (libarchive name) through filter `filter`
 * (name or NULL) with options and passphrase (may be NULL). 0 or -1. */
static int build(struct out *o, const char *fmt, const char *filter,
		 const char *opts, const char *pass, const struct ent *e,
		 size_t ne)
{
	memset(o, 0, sizeof(*o));
	struct archive *a = archive_write_new();
	int ok = archive_write_set_format_by_name(a, fmt) == ARCHIVE_OK &&
		 (filter == NULL ||
		  archive_write_add_filter_by_name(a, filter) == ARCHIVE_OK) &&
		 (opts == NULL ||
		  archive_write_set_options(a, opts) == ARCHIVE_OK) &&
		 (pass == NULL ||
		  archive_write_set_passphrase(a, pass) == ARCHIVE_OK) &&
		 archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
		 archive_write_open(a, o, NULL, write_cb, NULL) == ARCHIVE_OK;
	static const uint8_t zeros[65536];
	for (size_t i = 0; ok && i < ne; i++) {
		struct archive_entry *en = archive_entry_new();
		archive_entry_set_pathname(en, e[i].name);
		archive_entry_set_size(en, (la_int64_t)e[i].len);
		archive_entry_set_filetype(en, AE_IFREG);
		archive_entry_set_perm(en, 0644);
		archive_entry_set_mtime(en, 1700000000, 0);
		ok = archive_write_header(a, en) == ARCHIVE_OK;
		size_t off = 0;
		while (ok && off < e[i].len) {
			size_t k = e[i].len - off;
			const void *src;
			if (e[i].data == NULL) {
				if (k > sizeof(zeros))
					k = sizeof(zeros);
				src = zeros;
			} else {
				src = (const uint8_t *)e[i].data + off;
			}
			ok = archive_write_data(a, src, k) == (la_ssize_t)k;
			off += k;
		}
		archive_entry_free(en);
	}
	if (!ok)
		fprintf(stderr, "  build %s/%s: %s\n", fmt,
			filter ? filter : "-", archive_error_string(a));
	if (archive_write_close(a) != ARCHIVE_OK)
		ok = 0;
	archive_write_free(a);
	return ok ? 0 : -1;
}

static uint32_t crc32_le(const uint8_t *d, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		c ^= d[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & -(c & 1u));
	}
	return ~c;
}

static void put_le(struct out *o, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++) {
		uint8_t b = (uint8_t)(v >> (8 * i));
		out_put(o, &b, 1);
	}
}

static void set_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* RAR 4 with stored members; flags 0x04 marks a member encrypted. */
static void build_rar4(struct out *o, const struct ent *e, size_t ne,
		       unsigned file_flags)
{
	memset(o, 0, sizeof(*o));
	out_put(o, "Rar!\x1a\x07\x00", 7);
	uint8_t mh[13] = {0, 0, 0x73, 0, 0, 13, 0};
	set_le(mh, crc32_le(mh + 2, 11) & 0xFFFF, 2);
	out_put(o, mh, 13);
	for (size_t i = 0; i < ne; i++) {
		size_t nl = strlen(e[i].name);
		uint8_t h[32 + 256];
		memset(h, 0, sizeof(h));
		h[2] = 0x74;
		set_le(h + 3, 0x8000 | file_flags, 2);
		set_le(h + 5, 32 + nl, 2);
		set_le(h + 7, e[i].len, 4);  /* packed */
		set_le(h + 11, e[i].len, 4); /* unpacked */
		h[15] = 2;                   /* Windows */
		set_le(h + 16, crc32_le(e[i].data, e[i].len), 4);
		set_le(h + 20, 0x5A6B0000u, 4);
		h[24] = 20;                  /* version */
		h[25] = 0x30;                /* store */
		set_le(h + 26, nl, 2);
		set_le(h + 28, 0x20, 4);
		memcpy(h + 32, e[i].name, nl);
		set_le(h, crc32_le(h + 2, 30 + nl) & 0xFFFF, 2);
		out_put(o, h, 32 + nl);
		out_put(o, e[i].data, e[i].len);
	}
	uint8_t end[7] = {0, 0, 0x7B, 0x00, 0x40, 7, 0};
	set_le(end, crc32_le(end + 2, 5) & 0xFFFF, 2);
	out_put(o, end, 7);
}

static uint16_t crc16_arc(const uint8_t *d, size_t n)
{
	uint16_t c = 0;
	for (size_t i = 0; i < n; i++) {
		c ^= d[i];
		for (int k = 0; k < 8; k++)
			c = (uint16_t)((c >> 1) ^ (0xA001u & -(c & 1u)));
	}
	return c;
}

/* LHA level-0 headers, -lh0- (stored) members. */
static void build_lha(struct out *o, const struct ent *e, size_t ne)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < ne; i++) {
		size_t nl = strlen(e[i].name);
		uint8_t h[24 + 256];
		size_t hl = 22 + nl; /* from offset 2 */
		h[0] = (uint8_t)hl;
		memcpy(h + 2, "-lh0-", 5);
		set_le(h + 7, e[i].len, 4);
		set_le(h + 11, e[i].len, 4);
		set_le(h + 15, 0x5A6B0000u, 4);
		h[19] = 0x20;
		h[20] = 0; /* level */
		h[21] = (uint8_t)nl;
		memcpy(h + 22, e[i].name, nl);
		set_le(h + 22 + nl, crc16_arc(e[i].data, e[i].len), 2);
		uint8_t sum = 0;
		for (size_t k = 2; k < 2 + hl; k++)
			sum = (uint8_t)(sum + h[k]);
		h[1] = sum;
		out_put(o, h, 2 + hl);
		out_put(o, e[i].data, e[i].len);
	}
	out_put(o, "", 1); /* end marker */
}

/* 7z whose one folder is AES-256 encrypted (libarchive cannot write
 * that): the member list in a plain header (encrypted data), or the
 * header itself packed through AES (encrypted listing). */
static void put_7z_aes_folder(struct out *o, size_t packed, size_t unpacked)
{
	static const uint8_t aes_props[18] = {
		0x13 | 0x40, 0x0F, /* 2^19 rounds, 16-byte IV, no salt */
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t x;
	out_put(o, "\x06\x00\x01\x09", 4); /* PackInfo: pos 0, 1 stream */
	x = (uint8_t)packed;
	out_put(o, &x, 1);
	out_put(o, "\x00", 1);
	out_put(o, "\x07\x0B\x01\x00", 4); /* UnpackInfo: 1 folder */
	out_put(o, "\x01\x24\x06\xF1\x07\x01\x12", 7); /* AES coder */
	out_put(o, aes_props, sizeof(aes_props));
	out_put(o, "\x0C", 1);
	x = (uint8_t)unpacked;
	out_put(o, &x, 1);
	out_put(o, "\x00", 1);
}

static void build_7z_aes(struct out *o, int encrypted_header)
{
	uint8_t packed[64];
	for (size_t i = 0; i < sizeof(packed); i++)
		packed[i] = (uint8_t)rnd();
	struct out h = {0};
	if (encrypted_header) {
		out_put(&h, "\x17", 1); /* EncodedHeader: streams info */
		put_7z_aes_folder(&h, sizeof(packed), 60);
		out_put(&h, "\x00", 1);
	} else {
		out_put(&h, "\x01\x04", 2); /* Header, MainStreamsInfo */
		put_7z_aes_folder(&h, sizeof(packed), 60);
		out_put(&h, "\x08\x00", 2); /* SubStreamsInfo: 1 each */
		out_put(&h, "\x00", 1);
		/* FilesInfo: one file, its name in UTF-16LE */
		static const char name[] = "a.exe";
		uint8_t nb[2 * sizeof(name) + 1];
		nb[0] = 0; /* not external */
		for (size_t i = 0; i < sizeof(name); i++) {
			nb[1 + 2 * i] = (uint8_t)name[i];
			nb[2 + 2 * i] = 0;
		}
		out_put(&h, "\x05\x01\x11", 3);
		uint8_t x = (uint8_t)sizeof(nb);
		out_put(&h, &x, 1);
		out_put(&h, nb, sizeof(nb));
		out_put(&h, "\x00\x00", 2);
	}
	memset(o, 0, sizeof(*o));
	uint8_t sig[32] = {'7', 'z', 0xBC, 0xAF, 0x27, 0x1C, 0, 4};
	set_le(sig + 12, sizeof(packed), 8); /* next header offset */
	set_le(sig + 20, h.n, 8);
	set_le(sig + 28, crc32_le(h.p, h.n), 4);
	set_le(sig + 8, crc32_le(sig + 12, 20), 4);
	out_put(o, sig, 32);
	out_put(o, packed, sizeof(packed));
	out_put(o, h.p, h.n);
	out_free(&h);
}

/* --- walking -------------------------------------------------------------- */

#define MAXD 52

struct walk_res {
	unsigned found;        /* members equal to the needle */
	unsigned found_depth;  /* deepest depth it was found at */
	unsigned members;
	unsigned events[SCAN_ARC_EV_COUNT];
	unsigned first_events; /* events with first == 1 */
	unsigned flags;        /* OR of member flags */
	int err;
	char last_path[SCAN_ARC_PATH_MAX];
};

static void note_ev(struct walk_res *r, const struct scan_arc_event *ev)
{
	if (ev->kind == SCAN_ARC_EV_NONE)
		return;
	r->events[ev->kind]++;
	r->first_events += ev->first;
}

/* Walk d recursively: every member whose true type the walker handles is
 * opened as the next layer, as the pipeline will do. */
static void walk(const uint8_t *d, size_t n, unsigned depth,
		 struct scan_arc_budget *b, struct scan_arc_buf *bufs,
		 struct walk_res *r, const void *needle, size_t needlen)
{
	struct scan_arc *w;
	struct scan_arc_event ev;
	int rc = scan_arc_open(&w, d, n, depth, b, &bufs[depth], &ev);
	if (rc < 0) {
		note_ev(r, &ev);
		if (rc != -ECANCELED)
			r->err = rc;
		return;
	}
	struct scan_arc_member m;
	while ((rc = scan_arc_next(w, &m, &ev)) == 1) {
		note_ev(r, &ev);
		r->members++;
		r->flags |= m.flags;
		snprintf(r->last_path, sizeof(r->last_path), "%s", m.path);
		if (needle != NULL && m.len == needlen &&
		    memcmp(m.data, needle, needlen) == 0) {
			r->found++;
			if (depth > r->found_depth)
				r->found_depth = depth;
		}
		if (depth + 1 < MAXD &&
		    scan_arc_handles(scan_filetype(m.data, m.len)))
			walk(m.data, m.len, depth + 1, b, bufs, r, needle,
			     needlen);
	}
	note_ev(r, &ev);
	if (rc < 0)
		r->err = rc;
	scan_arc_close(w);
}

static void bufs_free(struct scan_arc_buf *bufs)
{
	for (int i = 0; i < MAXD; i++)
		scan_arc_buf_fini(&bufs[i]);
}

/* One layer, no recursion: members in order. */
struct listing {
	unsigned n;
	char path[8][SCAN_ARC_PATH_MAX];
	size_t len[8];
	uint8_t *data[8];
	unsigned flags[8];
	enum scan_arc_event_kind ev[8];
	enum scan_arc_event_kind end_ev;
	int open_rc;
	char fmt[64];
};

static void list_layer(const uint8_t *d, size_t n, struct scan_arc_budget *b,
		       struct listing *l)
{
	memset(l, 0, sizeof(*l));
	struct scan_arc_buf buf = {0};
	struct scan_arc *w;
	struct scan_arc_event ev;
	l->open_rc = scan_arc_open(&w, d, n, 1, b, &buf, &ev);
	if (l->open_rc < 0) {
		l->end_ev = ev.kind;
		return;
	}
	snprintf(l->fmt, sizeof(l->fmt), "%s", scan_arc_format(w));
	struct scan_arc_member m;
	int rc;
	while ((rc = scan_arc_next(w, &m, &ev)) == 1) {
		if (l->n < 8) {
			snprintf(l->path[l->n], SCAN_ARC_PATH_MAX, "%s",
				 m.path);
			l->len[l->n] = m.len;
			l->data[l->n] = malloc(m.len + 1);
			if (m.len)
				memcpy(l->data[l->n], m.data, m.len);
			l->flags[l->n] = m.flags;
			l->ev[l->n] = ev.kind;
		}
		l->n++;
	}
	l->end_ev = ev.kind;
	if (rc < 0)
		l->open_rc = rc;
	scan_arc_close(w);
	scan_arc_buf_fini(&buf);
}

static void listing_free(struct listing *l)
{
	for (int i = 0; i < 8; i++)
		free(l->data[i]);
}

static struct scan_arc_budget budget(void)
{
	struct scan_arc_budget b;
	scan_arc_budget_init(&b);
	return b;
}

static uint8_t rnd_data[100000];

static void fill_rnd(void)
{
	for (size_t i = 0; i < sizeof(rnd_data); i++)
		rnd_data[i] = (uint8_t)rnd();
}

/* --- tests ---------------------------------------------------------------- */

static void test_formats(void)
{
	static const struct {
		const char *fmt, *filter, *opts;
		int flat;   /* no directories in names (ar) */
		int stream; /* one member, raw */
		int one;    /* the first member only */
	} rows[] = {
		{"zip", NULL, NULL, 0, 0, 0},
		{"zip", NULL, "zip:compression=store", 0, 0, 0},
		{"7zip", NULL, NULL, 0, 0, 0},
		{"7zip", NULL, "7zip:compression=bzip2", 0, 0, 0},
		{"7zip", NULL, "7zip:compression=ppmd", 0, 0, 0},
		{"ustar", NULL, NULL, 0, 0, 0},
		{"pax", NULL, NULL, 0, 0, 0},
		{"gnutar", "gzip", NULL, 0, 0, 0},
		{"ustar", "bzip2", NULL, 0, 0, 0},
		{"ustar", "xz", NULL, 0, 0, 0},
		{"ustar", "zstd", NULL, 0, 0, 0},
		{"ustar", "lz4", NULL, 0, 0, 0},
		{"ustar", "lzma", NULL, 0, 0, 0},
		{"ustar", "lzip", NULL, 0, 0, 0},
		{"ustar", "compress", NULL, 0, 0, 0},
		{"newc", NULL, NULL, 0, 0, 0},
		{"cpio", "gzip", NULL, 0, 0, 0},
		{"arsvr4", NULL, NULL, 1, 0, 0},
		{"iso9660", NULL, NULL, 0, 0, 0},
		/* libarchive 3.6.2 gives the second member of a xar it
		 * wrote 68 bytes too many (its writer or reader, not
		 * ours): one member only. */
		{"xar", NULL, NULL, 0, 0, 1},
		{"raw", "gzip", NULL, 0, 1, 0},
		{"raw", "bzip2", NULL, 0, 1, 0},
		{"raw", "xz", NULL, 0, 1, 0},
		{"raw", "zstd", NULL, 0, 1, 0},
		{"raw", "lz4", NULL, 0, 1, 0},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ent e[2] = {
			{rows[i].flat ? "a.txt" : "docs/a.txt", eicar,
			 EICAR_LEN},
			{"b.bin", rnd_data, sizeof(rnd_data)},
		};
		size_t ne = rows[i].stream || rows[i].one ? 1 : 2;
		if (rows[i].stream)
			e[0] = e[1];
		struct out o;
		int rc = build(&o, rows[i].fmt, rows[i].filter, rows[i].opts,
			       NULL, e, ne);
		CHECK_MSG(rc == 0, "%s/%s: build failed", rows[i].fmt,
			  rows[i].filter ? rows[i].filter : "-");
		if (rc != 0) {
			out_free(&o);
			continue;
		}
		struct scan_arc_budget b = budget();
		struct listing l;
		list_layer(o.p, o.n, &b, &l);
		const char *what = rows[i].fmt;
		CHECK_MSG(l.open_rc == 0, "%s/%s: open %d event %s", what,
			  rows[i].filter ? rows[i].filter : "-", l.open_rc,
			  scan_arc_event_name(l.end_ev));
		CHECK_MSG(l.n == ne, "%s/%s: %u members, want %zu (%s)", what,
			  rows[i].filter ? rows[i].filter : "-", l.n, ne,
			  l.fmt);
		CHECK_MSG(l.end_ev == SCAN_ARC_EV_NONE, "%s: event %s", what,
			  scan_arc_event_name(l.end_ev));
		for (size_t k = 0; k < ne && k < l.n; k++) {
			const char *want = rows[i].stream ? "data" : e[k].name;
			CHECK_MSG(strcmp(l.path[k], want) == 0,
				  "%s/%s member %zu: '%s', want '%s'", what,
				  rows[i].filter ? rows[i].filter : "-", k,
				  l.path[k], want);
			CHECK_MSG(l.len[k] == e[k].len &&
					  memcmp(l.data[k], e[k].data,
						 e[k].len) == 0,
				  "%s/%s member %zu: %zu bytes differ", what,
				  rows[i].filter ? rows[i].filter : "-", k,
				  l.len[k]);
			CHECK(!!(l.flags[k] & SCAN_ARC_M_STREAM) ==
			      rows[i].stream);
			CHECK_EQ_INT(l.ev[k], SCAN_ARC_EV_NONE);
		}
		size_t want = 0;
		for (size_t k = 0; k < ne; k++)
			want += e[k].len;
		CHECK_EQ_INT(b.bytes, want);
		listing_free(&l);
		out_free(&o);
	}
}

/* Formats libarchive cannot write: rar 4 and lha by hand. */
static void test_rar_lha(void)
{
	struct ent e[2] = {{"dir\\eicar.com", eicar, EICAR_LEN},
			   {"b.bin", rnd_data, 5000}};
	struct out o;
	build_rar4(&o, e, 2, 0);
	struct scan_arc_budget b = budget();
	struct listing l;
	list_layer(o.p, o.n, &b, &l);
	CHECK_MSG(l.open_rc == 0 && l.n == 2, "rar: rc %d, %u members, %s",
		  l.open_rc, l.n, scan_arc_event_name(l.end_ev));
	if (l.n == 2) {
		CHECK_EQ_STR(l.path[0], "dir/eicar.com");
		CHECK_EQ_MEM(l.data[0], l.len[0], eicar, EICAR_LEN);
		CHECK_EQ_MEM(l.data[1], l.len[1], rnd_data, (size_t)5000);
	}
	listing_free(&l);
	out_free(&o);

	/* The same with the password flag: names, no bytes, an event. */
	build_rar4(&o, e, 2, 0x04);
	b = budget();
	list_layer(o.p, o.n, &b, &l);
	CHECK_MSG(l.n >= 1, "encrypted rar: %u members", l.n);
	CHECK(l.n < 1 || (l.flags[0] & SCAN_ARC_M_ENCRYPTED));
	CHECK(l.n < 1 || l.ev[0] == SCAN_ARC_EV_ENC_MEMBER);
	CHECK(l.n < 1 || l.len[0] == 0);
	CHECK(l.n < 1 || strcmp(l.path[0], "dir/eicar.com") == 0);
	listing_free(&l);
	out_free(&o);

	build_lha(&o, e, 2);
	b = budget();
	list_layer(o.p, o.n, &b, &l);
	CHECK_MSG(l.open_rc == 0 && l.n == 2, "lha: rc %d, %u members, %s",
		  l.open_rc, l.n, scan_arc_event_name(l.end_ev));
	if (l.n == 2) {
		CHECK_EQ_STR(l.path[0], "dir/eicar.com");
		CHECK_EQ_MEM(l.data[0], l.len[0], eicar, EICAR_LEN);
		CHECK_EQ_MEM(l.data[1], l.len[1], rnd_data, (size_t)5000);
	}
	listing_free(&l);
	out_free(&o);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct out o = {0};
	uint8_t tmp[65536];
	size_t k;
	while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
		out_put(&o, tmp, k);
	fclose(f);
	*n = o.n;
	return o.p;
}

#define TESTFILES "/usr/share/clamav-testfiles"

/* Real-world containers of clam.exe (cab, 7z, cpio variants, implode and
 * bzip2 zips, tar.gz, bzip2 stream): the exe is found in each. */
static void test_clamav_testfiles(void)
{
	size_t exe_n;
	uint8_t *exe = slurp(TESTFILES "/clam.exe", &exe_n);
	CHECK_MSG(exe != NULL, "%s/clam.exe missing: run scripts/install-deps "
		  "(package clamav-testfiles)", TESTFILES);
	if (exe == NULL)
		return;
	static const char *const files[] = {
		"clam.cab", "clam.7z", "clam.zip",
		"clam.bz2.zip", "clam.tar.gz", "clam.exe.bz2",
		"clam.newc.cpio", "clam.odc.cpio", "clam.bin-le.cpio",
		"clam.bin-be.cpio",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", TESTFILES, files[i]);
		size_t n;
		uint8_t *d = slurp(path, &n);
		CHECK_MSG(d != NULL, "%s missing", path);
		if (d == NULL)
			continue;
		struct scan_arc_budget b = budget();
		struct scan_arc_buf bufs[MAXD] = {0};
		struct walk_res r = {0};
		walk(d, n, 1, &b, bufs, &r, exe, exe_n);
		CHECK_MSG(r.found >= 1, "%s: clam.exe not found (%u members, "
			  "corrupt %u)", files[i], r.members,
			  r.events[SCAN_ARC_EV_CORRUPT]);
		bufs_free(bufs);
		free(d);
	}
	/* PKWARE implode is not in libarchive: listed, not unpacked, and
	 * reported (never a silent pass). */
	size_t n;
	uint8_t *d = slurp(TESTFILES "/clam.impl.zip", &n);
	CHECK(d != NULL);
	if (d != NULL) {
		struct scan_arc_budget b = budget();
		struct listing l;
		list_layer(d, n, &b, &l);
		CHECK_EQ_INT(l.n, 1);
		CHECK_EQ_STR(l.path[0], "CLAM.EXE");
		CHECK_EQ_INT(l.ev[0], SCAN_ARC_EV_CORRUPT);
		listing_free(&l);
		free(d);
	}
	free(exe);
}

/* EICAR in a zip in a zip ... n layers. */
static int nested_zip(struct out *o, unsigned layers)
{
	struct ent e = {"eicar.com", eicar, EICAR_LEN};
	if (build(o, "zip", NULL, NULL, NULL, &e, 1) != 0)
		return -1;
	for (unsigned k = 2; k <= layers; k++) {
		char name[32];
		snprintf(name, sizeof(name), "layer%u.zip", k - 1);
		struct ent inner = {name, o->p, o->n};
		struct out next;
		int rc = build(&next, "zip", NULL, NULL, NULL, &inner, 1);
		out_free(o);
		if (rc != 0)
			return -1;
		*o = next;
	}
	return 0;
}

static void test_nested_eicar(void)
{
	for (unsigned layers = 1; layers <= 25; layers++) {
		struct out o;
		CHECK(nested_zip(&o, layers) == 0);
		/* Default depth 20: found up to 20, a depth event beyond. */
		struct scan_arc_budget b = budget();
		struct scan_arc_buf bufs[MAXD] = {0};
		struct walk_res r = {0};
		walk(o.p, o.n, 1, &b, bufs, &r, eicar, EICAR_LEN);
		if (layers <= 20) {
			CHECK_MSG(r.found == 1 && r.found_depth == layers,
				  "%u layers: found %u at %u", layers, r.found,
				  r.found_depth);
			CHECK_EQ_INT(r.events[SCAN_ARC_EV_DEPTH], 0);
		} else {
			CHECK_MSG(r.found == 0, "%u layers: found", layers);
			CHECK_MSG(r.events[SCAN_ARC_EV_DEPTH] == 1,
				  "%u layers: %u depth events", layers,
				  r.events[SCAN_ARC_EV_DEPTH]);
			CHECK_EQ_INT(b.deepest, 20);
		}
		CHECK_EQ_INT(r.err, 0);
		/* Depth 50 (and anything above is clamped to it): found. */
		struct scan_arc_budget b50 = budget();
		b50.max_depth = 1000;
		struct walk_res r50 = {0};
		walk(o.p, o.n, 1, &b50, bufs, &r50, eicar, EICAR_LEN);
		CHECK_MSG(r50.found == 1, "%u layers, depth 50: not found",
			  layers);
		bufs_free(bufs);
		out_free(&o);
	}
	/* 52 layers against the ceiling of 50. */
	struct out o;
	CHECK(nested_zip(&o, 52) == 0);
	struct scan_arc_budget b = budget();
	b.max_depth = 1000;
	struct scan_arc_buf bufs[MAXD] = {0};
	struct walk_res r = {0};
	walk(o.p, o.n, 1, &b, bufs, &r, eicar, EICAR_LEN);
	CHECK_EQ_INT(r.found, 0);
	CHECK_EQ_INT(r.events[SCAN_ARC_EV_DEPTH], 1);
	CHECK_EQ_INT(b.deepest, SCAN_ARC_MAX_DEPTH);
	bufs_free(bufs);
	out_free(&o);
}

/* Peak RSS in KiB. getrusage's ru_maxrss only grows over the process's
 * life, so an earlier test's peak would hide this one's: where Linux
 * allows it (/proc/self/clear_refs "5"), the peak is reset to the current
 * RSS first and read back as VmHWM. */
static long status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, kl) == 0)
			v = atol(line + kl);
	if (f != NULL)
		fclose(f);
	return v;
}

static long peak_rss_kib(void)
{
	long hwm = status_kib("VmHWM:");
	if (hwm >= 0)
		return hwm;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Reset the peak to the current RSS (if possible) and return it. */
static long peak_rss_reset(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (f != NULL) {
		fputs("5", f);
		fclose(f);
	}
	return peak_rss_kib();
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 42.zip style: 16 copies of 16 copies of 16 copies of a zip holding
 * 64 MiB of zeros (256 GiB when fully expanded). */
static void test_recursive_bomb(void)
{
	struct out o;
	struct ent z = {"zeros.bin", NULL, 64u << 20};
	CHECK(build(&o, "zip", NULL, NULL, NULL, &z, 1) == 0);
	for (int level = 0; level < 3; level++) {
		struct ent e[16];
		char names[16][16];
		for (int i = 0; i < 16; i++) {
			snprintf(names[i], sizeof(names[i]), "%x%d.zip", i,
				 level);
			e[i] = (struct ent){names[i], o.p, o.n};
		}
		struct out next;
		CHECK(build(&next, "zip", NULL, NULL, NULL, e, 16) == 0);
		out_free(&o);
		o = next;
	}
	long rss0 = peak_rss_reset();
	/* With the ratio check: stopped at the first zeros member. */
	struct scan_arc_budget b = budget();
	b.max_bytes = 32u << 20;
	struct scan_arc_buf bufs[MAXD] = {0};
	struct walk_res r = {0};
	double t0 = mono_s();
	walk(o.p, o.n, 1, &b, bufs, &r, NULL, 0);
	double t1 = mono_s();
	CHECK_MSG(r.events[SCAN_ARC_EV_RATIO] >= 1, "ratio events %u",
		  r.events[SCAN_ARC_EV_RATIO]);
	CHECK(b.bytes <= b.max_bytes);
	/* Without it: the byte budget stops it. */
	struct scan_arc_budget b2 = budget();
	b2.max_bytes = 32u << 20;
	b2.max_ratio = 0;
	struct walk_res r2 = {0};
	walk(o.p, o.n, 1, &b2, bufs, &r2, NULL, 0);
	double t2 = mono_s();
	CHECK_MSG(r2.events[SCAN_ARC_EV_BYTES] >= 1, "bytes events %u",
		  r2.events[SCAN_ARC_EV_BYTES]);
	CHECK_EQ_INT(b2.bytes, b2.max_bytes);
	CHECK_EQ_INT(r2.first_events, 1); /* reported once per message */
	long rss1 = peak_rss_kib();
	bufs_free(bufs);
	printf("  recursive bomb (%zu bytes, 256 GiB expanded): ratio stop "
	       "%.3f s, byte-budget stop %.3f s (%llu bytes), peak RSS +%ld "
	       "KiB\n", o.n, t1 - t0, t2 - t1,
	       (unsigned long long)b2.bytes, rss1 - rss0);
	CHECK_MSG(t2 - t0 < 20.0, "took %.1f s", t2 - t0);
	/* Buffers hold at most 2 x the byte budget; the rest is libarchive
	 * and the sanitizer's allocator. */
	CHECK_MSG(rss1 - rss0 < 160 * 1024, "peak RSS grew %ld KiB",
		  rss1 - rss0);
	out_free(&o);
}

/* The deflate stream of a zip's first member (its local header at 0). */
static void first_stream(const struct out *zip, const uint8_t **p,
			 size_t *n, uint32_t *crc, uint32_t *usize)
{
	const uint8_t *d = zip->p;
	uint32_t nl = d[26] | d[27] << 8, xl = d[28] | d[29] << 8;
	*p = d + 30 + nl + xl;
	/* libarchive writes sizes in a data descriptor: take them from the
	 * central directory. */
	const uint8_t *c = memmem(d, zip->n, "PK\1\2", 4);
	*crc = (uint32_t)c[16] | (uint32_t)c[17] << 8 | (uint32_t)c[18] << 16 |
	       (uint32_t)c[19] << 24;
	*n = (size_t)((uint32_t)c[20] | (uint32_t)c[21] << 8 |
		      (uint32_t)c[22] << 16 | (uint32_t)c[23] << 24);
	*usize = (uint32_t)c[24] | (uint32_t)c[25] << 8 |
		 (uint32_t)c[26] << 16 | (uint32_t)c[27] << 24;
}

/* Fifield's non-recursive bomb, simplest form: one local file and `count`
 * central directory entries all pointing at it. */
static void build_overlap_zip(struct out *o, unsigned count, size_t zeros)
{
	struct out src;
	struct ent z = {"k", NULL, zeros};
	if (build(&src, "zip", NULL, NULL, NULL, &z, 1) != 0)
		abort();
	const uint8_t *s;
	size_t sn;
	uint32_t crc, usize;
	first_stream(&src, &s, &sn, &crc, &usize);
	memset(o, 0, sizeof(*o));
	put_le(o, 0x04034b50, 4);
	put_le(o, 20, 2);
	put_le(o, 0, 2);
	put_le(o, 8, 2);
	put_le(o, 0, 4);
	put_le(o, crc, 4);
	put_le(o, sn, 4);
	put_le(o, usize, 4);
	put_le(o, 1, 2);
	put_le(o, 0, 2);
	out_put(o, "k", 1);
	out_put(o, s, sn);
	size_t cd = o->n;
	for (unsigned i = 0; i < count; i++) {
		char name[16];
		int nl = snprintf(name, sizeof(name), "%u", i);
		put_le(o, 0x02014b50, 4);
		put_le(o, 20, 2);
		put_le(o, 20, 2);
		put_le(o, 0, 2);
		put_le(o, 8, 2);
		put_le(o, 0, 4);
		put_le(o, crc, 4);
		put_le(o, sn, 4);
		put_le(o, usize, 4);
		put_le(o, (uint64_t)nl, 2);
		put_le(o, 0, 2);
		put_le(o, 0, 2);
		put_le(o, 0, 2);
		put_le(o, 0, 2);
		put_le(o, 0, 4);
		put_le(o, 0, 4); /* every entry: local header at 0 */
		out_put(o, name, (size_t)nl);
	}
	size_t cd_size = o->n - cd;
	put_le(o, 0x06054b50, 4);
	put_le(o, 0, 4);
	put_le(o, count, 2);
	put_le(o, count, 2);
	put_le(o, cd_size, 4);
	put_le(o, cd, 4);
	put_le(o, 0, 2);
	out_free(&src);
}

static void test_overlap_bomb(void)
{
	struct out o;
	build_overlap_zip(&o, 3000, 8u << 20); /* 24 GiB if expanded */
	long rss0 = peak_rss_reset();
	double t0 = mono_s();
	struct scan_arc_budget b = budget();
	struct scan_arc_buf bufs[MAXD] = {0};
	struct walk_res r = {0};
	walk(o.p, o.n, 1, &b, bufs, &r, NULL, 0);
	double t1 = mono_s();
	CHECK_EQ_INT(r.events[SCAN_ARC_EV_OVERLAP], 1);
	CHECK_EQ_INT(r.members, 0);
	CHECK_EQ_INT(b.bytes, 0); /* refused before decompressing */
	printf("  overlap bomb (%zu bytes, 3000 entries x 8 MiB): refused in "
	       "%.4f s, peak RSS +%ld KiB\n", o.n, t1 - t0,
	       peak_rss_kib() - rss0);
	bufs_free(bufs);
	out_free(&o);
}

static void test_encrypted(void)
{
	static const char *const opts[] = {
		"zip:encryption=zipcrypt", "zip:encryption=aes128",
		"zip:encryption=aes256",
	};
	for (size_t i = 0; i < 3; i++) {
		struct ent e[2] = {{"docs/a.exe", eicar, EICAR_LEN},
				   {"b.txt", "hello", 5}};
		struct out o;
		CHECK_MSG(build(&o, "zip", NULL, opts[i], "secret", e, 2) == 0,
			  "%s", opts[i]);
		struct scan_arc_budget b = budget();
		struct listing l;
		list_layer(o.p, o.n, &b, &l);
		CHECK_MSG(l.open_rc == 0 && l.n == 2, "%s: rc %d n %u ev %s",
			  opts[i], l.open_rc, l.n,
			  scan_arc_event_name(l.end_ev));
		for (unsigned k = 0; k < l.n && k < 2; k++) {
			CHECK_MSG(l.flags[k] & SCAN_ARC_M_ENCRYPTED,
				  "%s member %u", opts[i], k);
			CHECK_EQ_INT(l.ev[k], SCAN_ARC_EV_ENC_MEMBER);
			CHECK_EQ_INT(l.len[k], 0);
			CHECK_EQ_STR(l.path[k], e[k].name);
		}
		CHECK_EQ_INT(scan_arc_event_class(SCAN_ARC_EV_ENC_MEMBER),
			     SCAN_ARC_CLASS_ENCRYPTED);
		listing_free(&l);
		out_free(&o);
	}
}

static void test_encrypted_7z(void)
{
	struct out o;
	build_7z_aes(&o, 0);
	struct scan_arc_budget b = budget();
	struct listing l;
	list_layer(o.p, o.n, &b, &l);
	CHECK_MSG(l.open_rc == 0 && l.n == 1, "7z: rc %d n %u ev %s",
		  l.open_rc, l.n, scan_arc_event_name(l.end_ev));
	CHECK(l.n < 1 || (l.flags[0] & SCAN_ARC_M_ENCRYPTED));
	CHECK(l.n < 1 || l.ev[0] == SCAN_ARC_EV_ENC_MEMBER);
	CHECK(l.n < 1 || strcmp(l.path[0], "a.exe") == 0);
	listing_free(&l);
	out_free(&o);

	build_7z_aes(&o, 1);
	b = budget();
	list_layer(o.p, o.n, &b, &l);
	CHECK_EQ_INT(l.open_rc, -ECANCELED);
	CHECK_EQ_INT(l.end_ev, SCAN_ARC_EV_ENC_ARCHIVE);
	out_free(&o);
}

/* Truncation at every length and flipped bytes: never a crash, a leak or
 * a hang; damage is an event; a cut inside a member keeps the prefix. */
static void test_corrupt(void)
{
	struct ent e[2] = {{"a.txt", eicar, EICAR_LEN},
			   {"b.bin", rnd_data, 20000}};
	static const struct {
		const char *fmt, *filter;
	} rows[] = {{"zip", NULL}, {"7zip", NULL}, {"ustar", "gzip"},
		    {"ustar", "xz"}, {"raw", "bzip2"}, {"newc", "zstd"}};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct out o;
		size_t ne = strcmp(rows[i].fmt, "raw") == 0 ? 1 : 2;
		CHECK(build(&o, rows[i].fmt, rows[i].filter, NULL, NULL,
			    e + (ne == 1), ne) == 0);
		unsigned events = 0, cuts = 0;
		for (size_t cut = 0; cut < o.n; cut += 1 + o.n / 300) {
			struct scan_arc_budget b = budget();
			struct scan_arc_buf bufs[MAXD] = {0};
			struct walk_res r = {0};
			walk(o.p, cut, 1, &b, bufs, &r, NULL, 0);
			unsigned evs = r.events[SCAN_ARC_EV_CORRUPT];
			events += evs > 0;
			cuts++;
			CHECK_EQ_INT(r.err, 0);
			bufs_free(bufs);
		}
		/* Every truncation of a single-stream or 7z layer is damage;
		 * zip and tar may end cleanly on a member boundary. */
		CHECK_MSG(events * 10 >= cuts * 8, "%s/%s: %u of %u cuts "
			  "reported", rows[i].fmt,
			  rows[i].filter ? rows[i].filter : "-", events, cuts);
		for (int k = 0; k < 300; k++) {
			struct out c = {0};
			out_put(&c, o.p, o.n);
			for (int f = 0; f < 4; f++)
				c.p[rnd() % c.n] ^= (uint8_t)(1u + rnd() % 255);
			struct scan_arc_budget b = budget();
			struct scan_arc_buf bufs[MAXD] = {0};
			struct walk_res r = {0};
			walk(c.p, c.n, 1, &b, bufs, &r, NULL, 0);
			CHECK_EQ_INT(r.err, 0);
			bufs_free(bufs);
			out_free(&c);
		}
		out_free(&o);
	}
	/* Cut in the middle of the second member's data: the first member
	 * intact, the second a prefix flagged truncated. */
	struct ent big[2] = {{"a.txt", eicar, EICAR_LEN},
			     {"b.bin", rnd_data, sizeof(rnd_data)}};
	static const char *const cutfmt[][2] = {
		{"zip", "zip:compression=store"}, {"zip", NULL},
		{"ustar", NULL}, {"7zip", NULL}};
	struct scan_arc_budget b;
	struct listing l;
	struct out o;
	for (size_t i = 0; i < 4; i++) {
		CHECK(build(&o, cutfmt[i][0], NULL, cutfmt[i][1], NULL, big,
			    2) == 0);
		b = budget();
		list_layer(o.p, o.n / 2, &b, &l);
		int seven = strcmp(cutfmt[i][0], "7zip") == 0;
		if (seven) { /* the listing is at the end: nothing to list */
			CHECK_EQ_INT(l.open_rc, -ECANCELED);
			CHECK_EQ_INT(l.end_ev, SCAN_ARC_EV_CORRUPT);
			out_free(&o);
			continue;
		}
		CHECK_MSG(l.n == 2, "%s: %u members", cutfmt[i][0], l.n);
		CHECK(l.n < 1 || l.len[0] == EICAR_LEN);
		CHECK(l.n < 2 || (l.flags[1] & SCAN_ARC_M_TRUNCATED));
		CHECK(l.n < 2 || l.ev[1] == SCAN_ARC_EV_CORRUPT);
		CHECK_MSG(l.n < 2 || (l.len[1] > 40000 &&
				      l.len[1] < sizeof(rnd_data) &&
				      memcmp(l.data[1], rnd_data, l.len[1]) ==
					      0),
			  "%s: prefix of %zu bytes", cutfmt[i][0], l.len[1]);
		listing_free(&l);
		out_free(&o);
	}
	/* Not an archive at all. */
	b = budget();
	list_layer((const uint8_t *)"just some text\n", 15, &b, &l);
	CHECK_EQ_INT(l.open_rc, -ECANCELED);
	CHECK_EQ_INT(l.end_ev, SCAN_ARC_EV_CORRUPT);
	b = budget();
	list_layer((const uint8_t *)"PK\3\4garbage", 11, &b, &l);
	CHECK_EQ_INT(l.n, 0);
	CHECK(l.end_ev == SCAN_ARC_EV_CORRUPT);
}

static void test_sanitise(void)
{
	static const struct {
		const char *in, *out;
		int odd;
	} rows[] = {
		{"docs/a.exe", "docs/a.exe", 0},
		{"docs\\sub\\a.exe", "docs/sub/a.exe", 0},
		{"./a", "a", 0},
		{"a//b/", "a/b", 0},
		{"../../etc/passwd", "__/__/etc/passwd", 1},
		{"a/../../b", "a/__/__/b", 1},
		{"/etc/passwd", "etc/passwd", 1},
		{"\\\\server\\share\\x", "server/share/x", 1},
		{"C:\\Windows\\a.exe", "Windows/a.exe", 1},
		{"c:a.exe", "c:a.exe", 0},
		{"a\tb\x7f" "c", "a?b?c", 1},
		{"\xff\xfe" "A", "??A", 1},
		{"\xc0\xaf" "x", "??x", 1},           /* overlong '/' */
		{"\xed\xa0\x80" "x", "???x", 1},      /* surrogate */
		{"\xe2\x82", "??", 1},                /* cut sequence */
		{"inv\xe2\x80\xae" "fdp.exe", "inv?fdp.exe", 1}, /* RLO */
		{"r\xc3\xa9sum\xc3\xa9.pdf", "r\xc3\xa9sum\xc3\xa9.pdf", 0},
		{"\xf0\x9f\x98\x80.zip", "\xf0\x9f\x98\x80.zip", 0},
		{"", "(unnamed)", 0},
		{"/", "(unnamed)", 1},
		{"..", "__", 1},
	};
	char out[SCAN_ARC_PATH_MAX];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int odd = scan_arc_sanitise_path(rows[i].in, out, sizeof(out));
		CHECK_MSG(strcmp(out, rows[i].out) == 0 && odd == rows[i].odd,
			  "row %zu: '%s' odd %d", i, out, odd);
	}
	CHECK(scan_arc_sanitise_path(NULL, out, sizeof(out)) == 0 &&
	      strcmp(out, "(unnamed)") == 0);
	/* Overlong: bounded, head and extension kept, valid UTF-8. */
	char lng[3000];
	size_t k = 0;
	while (k < 2000) {
		memcpy(lng + k, "\xc3\xa9", 2); /* é */
		k += 2;
	}
	memcpy(lng + k, "/x.exe", 7);
	int odd = scan_arc_sanitise_path(lng, out, sizeof(out));
	size_t ol = strlen(out);
	CHECK(odd == 1);
	CHECK(ol <= SCAN_ARC_PATH_MAX - 1 && ol > 200);
	CHECK(ol >= 6 && strcmp(out + ol - 6, "/x.exe") == 0);
	CHECK(strchr(out, '~') != NULL);
	CHECK(memcmp(out, "\xc3\xa9\xc3\xa9", 4) == 0);
	for (size_t i = 0; i < ol;) {
		unsigned char c = (unsigned char)out[i];
		size_t sl = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		CHECK(c < 0x80 || (c >= 0xC2 && i + sl <= ol));
		for (size_t j = 1; j < sl && i + j < ol; j++)
			CHECK(((unsigned char)out[i + j] & 0xC0) == 0x80);
		i += sl;
	}
	/* A small output buffer. */
	scan_arc_sanitise_path("abcdefghijklmnopqrstuvwxyz.exe", out, 16);
	CHECK(strlen(out) == 15);
	CHECK(strcmp(out + strlen(out) - 4, ".exe") == 0);

	/* Names as stored in a zip: traversal and a NUL inside the name. */
	struct ent e[2] = {{"../../evil.exe", eicar, EICAR_LEN},
			   {"abXcd.txt", "x", 1}};
	struct out o;
	CHECK(build(&o, "zip", NULL, NULL, NULL, e, 2) == 0);
	for (uint8_t *p = o.p; (p = memmem(p, o.n - (size_t)(p - o.p),
					   "abXcd", 5)) != NULL;)
		p[2] = '\0';
	struct scan_arc_budget b = budget();
	struct listing l;
	list_layer(o.p, o.n, &b, &l);
	CHECK_EQ_INT(l.n, 2);
	CHECK_EQ_STR(l.path[0], "__/__/evil.exe");
	CHECK(l.flags[0] & SCAN_ARC_M_PATH_ODD);
	CHECK_MSG(l.n < 2 || strcmp(l.path[1], "ab") == 0, "'%s'", l.path[1]);
	listing_free(&l);
	out_free(&o);
}

static void test_limits(void)
{
	struct ent e[50];
	char names[50][16];
	for (int i = 0; i < 50; i++) {
		snprintf(names[i], sizeof(names[i]), "f%02d.bin", i);
		e[i] = (struct ent){names[i], rnd_data + i, 2000};
	}
	struct out o;
	CHECK(build(&o, "zip", NULL, NULL, NULL, e, 50) == 0);
	/* Members. */
	struct scan_arc_budget b = budget();
	b.max_members = 10;
	struct listing l;
	list_layer(o.p, o.n, &b, &l);
	CHECK_EQ_INT(l.n, 10);
	CHECK_EQ_INT(l.end_ev, SCAN_ARC_EV_MEMBERS);
	listing_free(&l);
	/* Budget already spent: the next layer is not opened. */
	list_layer(o.p, o.n, &b, &l);
	CHECK_EQ_INT(l.open_rc, -ECANCELED);
	CHECK_EQ_INT(l.end_ev, SCAN_ARC_EV_MEMBERS);
	/* Per member: prefix kept, the layer goes on. */
	b = budget();
	b.max_member_size = 1500;
	list_layer(o.p, o.n, &b, &l);
	CHECK_EQ_INT(l.n, 50);
	for (unsigned i = 0; i < 8; i++) {
		CHECK_EQ_INT(l.len[i], 1500);
		CHECK(l.flags[i] & SCAN_ARC_M_CUT);
		CHECK_EQ_INT(l.ev[i], SCAN_ARC_EV_MEMBER_SIZE);
		CHECK(memcmp(l.data[i], rnd_data + i, 1500) == 0);
	}
	CHECK_EQ_INT(l.end_ev, SCAN_ARC_EV_NONE);
	listing_free(&l);
	/* Total bytes: stops inside the 6th member. */
	b = budget();
	b.max_bytes = 11000;
	list_layer(o.p, o.n, &b, &l);
	CHECK_EQ_INT(l.n, 6);
	CHECK_EQ_INT(l.len[5], 1000);
	CHECK_EQ_INT(l.ev[5], SCAN_ARC_EV_BYTES);
	CHECK_EQ_INT(b.bytes, 11000);
	listing_free(&l);
	/* Time: a deadline in the past. */
	b = budget();
	b.deadline_ns = 1;
	list_layer(o.p, o.n, &b, &l);
	CHECK_EQ_INT(l.open_rc, -ECANCELED);
	CHECK_EQ_INT(l.end_ev, SCAN_ARC_EV_TIME);
	/* Ratio per layer: 4 MiB of zeros in a tar.gz. */
	struct ent z = {"zeros", NULL, 4u << 20};
	struct out g;
	CHECK(build(&g, "ustar", "gzip", NULL, NULL, &z, 1) == 0);
	b = budget();
	list_layer(g.p, g.n, &b, &l);
	CHECK_EQ_INT(l.n, 1);
	CHECK_EQ_INT(l.ev[0], SCAN_ARC_EV_RATIO);
	CHECK(l.flags[0] & SCAN_ARC_M_CUT);
	listing_free(&l);
	b = budget();
	b.max_ratio = 0;
	list_layer(g.p, g.n, &b, &l);
	CHECK_EQ_INT(l.n, 1);
	CHECK_EQ_INT(l.len[0], 4u << 20);
	CHECK_EQ_INT(l.ev[0], SCAN_ARC_EV_NONE);
	listing_free(&l);
	out_free(&g);
	/* Buffer reuse: one allocation for all 50 members once warm. */
	struct scan_arc_buf buf = {0};
	struct scan_arc *w;
	struct scan_arc_event ev;
	b = budget();
	CHECK(scan_arc_open(&w, o.p, o.n, 1, &b, &buf, &ev) == 0);
	struct scan_arc_member m;
	const uint8_t *first = NULL;
	int moved = 0;
	while (scan_arc_next(w, &m, &ev) == 1) {
		if (first == NULL)
			first = m.data;
		moved |= m.data != first;
	}
	CHECK(!moved);
	CHECK_EQ_INT(buf.cap, 64 * 1024);
	scan_arc_close(w);
	scan_arc_buf_fini(&buf);
	out_free(&o);
}

/* Two zips back to back: the central directory lists the second; the
 * first one's local headers are read in a second pass. */
static void test_hidden_local(void)
{
	struct ent h = {"hidden.exe", eicar, EICAR_LEN};
	struct ent v = {"visible.txt", "hello", 5};
	struct out a, bz;
	CHECK(build(&a, "zip", NULL, NULL, NULL, &h, 1) == 0);
	CHECK(build(&bz, "zip", NULL, NULL, NULL, &v, 1) == 0);
	out_put(&a, bz.p, bz.n);
	struct scan_arc_budget b = budget();
	struct listing l;
	list_layer(a.p, a.n, &b, &l);
	CHECK_EQ_INT(l.n, 2);
	CHECK_EQ_STR(l.path[0], "visible.txt");
	CHECK(l.n < 2 || strcmp(l.path[1], "hidden.exe") == 0);
	CHECK(l.n < 2 || (l.flags[1] & SCAN_ARC_M_LOCAL));
	CHECK(l.n < 2 || (l.len[1] == EICAR_LEN &&
			  memcmp(l.data[1], eicar, EICAR_LEN) == 0));
	listing_free(&l);
	/* An ordinary zip gets no second pass. */
	b = budget();
	list_layer(bz.p, bz.n, &b, &l);
	CHECK_EQ_INT(l.n, 1);
	listing_free(&l);
	out_free(&a);
	out_free(&bz);
}

/* A self-extractor: a stub in front of the zip. The central directory's
 * offsets do not count the stub; the members are found, and a stray
 * "PK\3\4" in the stub that is no plausible header starts no second
 * pass. */
static void test_sfx(void)
{
	struct ent e = {"setup/a.txt", eicar, EICAR_LEN};
	struct out z;
	CHECK(build(&z, "zip", NULL, NULL, NULL, &e, 1) == 0);
	struct out o = {0};
	uint8_t stub[4096];
	memset(stub, 0x90, sizeof(stub));
	memcpy(stub, "MZ", 2);
	memcpy(stub + 1000, "PK\3\4\xff\xff", 6);
	out_put(&o, stub, sizeof(stub));
	out_put(&o, z.p, z.n);
	struct scan_arc_budget b = budget();
	struct listing l;
	list_layer(o.p, o.n, &b, &l);
	CHECK_EQ_INT(l.n, 1);
	CHECK_EQ_STR(l.path[0], "setup/a.txt");
	CHECK(l.n < 1 || !(l.flags[0] & SCAN_ARC_M_LOCAL));
	CHECK(l.n < 1 || (l.len[0] == EICAR_LEN &&
			  memcmp(l.data[0], eicar, EICAR_LEN) == 0));
	listing_free(&l);
	out_free(&o);
	out_free(&z);
}

/* --- the pipeline (scan/scan_archive.c): members are leaves ------------- */

static const char pipe_yaml[] =
	"signatures: [" SLUICE_SRCDIR "/config/signatures]\n"
	"rule_cache: /tmp/sluice-test-archive-cache\n"
	"internal_domains: [example.net]\n";

struct pipe {
	struct scan_config *cfg;
	struct scan_engine *eng;
	struct scan_ctx *ctx;
};

static int pipe_open(struct pipe *p, const char *extra)
{
	char err[512], y[1024];
	snprintf(y, sizeof(y), "%s%s", pipe_yaml, extra ? extra : "");
	struct conf_doc *d = NULL;
	memset(p, 0, sizeof(*p));
	int rc = conf_load_string("t.conf", y, strlen(y), &d, err,
				  sizeof(err));
	if (rc == 0)
		rc = scan_config_from_conf(d, &p->cfg, err, sizeof(err));
	conf_free(d);
	if (rc == 0)
		rc = scan_engine_create(p->cfg, NULL, NULL, NULL, &p->eng, err,
					sizeof(err));
	if (rc == 0 && (p->ctx = scan_ctx_create(p->eng)) == NULL)
		rc = -ENOMEM;
	if (rc != 0)
		fprintf(stderr, "  pipeline setup: %s\n", err);
	return rc;
}

static void pipe_close(struct pipe *p)
{
	scan_ctx_free(p->ctx);
	scan_engine_free(p->eng);
	scan_config_free(p->cfg);
}

/* A message with `data` attached as `name`, base64. */
static void mail_with(struct out *o, const char *name, const uint8_t *data,
		      size_t n)
{
	char hdr[512];
	memset(o, 0, sizeof(*o));
	int hl = snprintf(hdr, sizeof(hdr),
		"From: a@example.org\r\nTo: b@example.net\r\nSubject: t\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=bb\r\n\r\n"
		"--bb\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--bb\r\nContent-Type: application/zip; name=%s\r\n"
		"Content-Disposition: attachment; filename=%s\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n", name, name);
	out_put(o, hdr, (size_t)hl);
	out_base64(o, data, n);
	out_put(o, "\r\n--bb--\r\n", 10);
}

static const struct scan_finding *finding(const struct scan_verdict *v,
					  enum scan_finding_kind k,
					  const char *name)
{
	for (unsigned i = 0; i < v->nfindings; i++)
		if (v->findings[i].kind == k &&
		    (name == NULL || strcmp(v->findings[i].name, name) == 0))
			return &v->findings[i];
	return NULL;
}

static const struct scan_part_info *part_of(const struct scan_verdict *v,
					    int id)
{
	for (unsigned i = 0; i < v->nparts; i++)
		if (v->parts[i].id == id)
			return &v->parts[i];
	return NULL;
}

static struct scan_verdict pv;

/* EICAR nested 1..25 zips deep: found (with its path) up to the default
 * depth of 20, an archive-depth limit beyond. */
static void test_pipeline_nested(void)
{
	struct pipe p;
	if (pipe_open(&p, NULL) != 0) {
		CHECK(0);
		return;
	}
	for (unsigned layers = 1; layers <= 25; layers++) {
		struct out z, m;
		CHECK(nested_zip(&z, layers) == 0);
		mail_with(&m, "a.zip", z.p, z.n);
		int rc = scan_message(p.ctx, m.p, m.n, NULL, NULL, 0, &pv);
		CHECK_EQ_INT(rc, 0);
		const struct scan_finding *vf = finding(&pv, SCAN_F_VIRUS, NULL);
		const struct scan_finding *lf =
			finding(&pv, SCAN_F_LIMIT, "archive-depth");
		if (layers <= 20) {
			CHECK_MSG(vf != NULL && lf == NULL,
				  "%u layers: virus %d depth limit %d", layers,
				  vf != NULL, lf != NULL);
			CHECK_EQ_INT(pv.disposition, SCAN_REJECT);
			const struct scan_part_info *pi =
				vf ? part_of(&pv, vf->part) : NULL;
			CHECK_MSG(pi != NULL && pi->path != NULL &&
					  strncmp(pi->path, "2/a.zip/", 8) == 0 &&
					  strlen(pi->path) > 10 &&
					  strcmp(pi->path + strlen(pi->path) -
							 10, "/eicar.com") == 0,
				  "%u layers: path %s", layers,
				  pi && pi->path ? pi->path : "?");
		} else {
			CHECK_MSG(vf == NULL && lf != NULL,
				  "%u layers: virus %d depth limit %d", layers,
				  vf != NULL, lf != NULL);
			CHECK_EQ_INT(pv.cls, SCAN_LIMIT);
		}
		out_free(&z);
		out_free(&m);
	}
	pipe_close(&p);
}

static void test_pipeline_encrypted(void)
{
	struct pipe p;
	if (pipe_open(&p, NULL) != 0) {
		CHECK(0);
		return;
	}
	struct ent e = {"invoice.pdf", "%PDF-1.4 hello", 14};
	struct out z, m;
	CHECK(build(&z, "zip", NULL, "zip:encryption=aes256", "pw", &e, 1) ==
	      0);
	mail_with(&m, "invoice.zip", z.p, z.n);
	CHECK_EQ_INT(scan_message(p.ctx, m.p, m.n, NULL, NULL, 0, &pv), 0);
	const struct scan_finding *f =
		finding(&pv, SCAN_F_ENCRYPTED, "encrypted-member");
	CHECK(f != NULL);
	CHECK_EQ_INT(pv.cls, SCAN_ENCRYPTED);
	CHECK_EQ_INT(pv.disposition, SCAN_QUARANTINE);
	CHECK_EQ_STR(pv.quarantine_area, "encrypted");
	const struct scan_part_info *pi = f ? part_of(&pv, f->part) : NULL;
	CHECK(pi != NULL && strcmp(pi->path, "2/invoice.zip/invoice.pdf") == 0);
	CHECK(pi != NULL && strcmp(pi->true_type, "encrypted") == 0);
	CHECK_EQ_STR(scan_finding_kind_name(SCAN_F_ENCRYPTED), "encrypted");
	CHECK_EQ_STR(scan_class_name(SCAN_ENCRYPTED), "encrypted");
	out_free(&z);
	out_free(&m);
	pipe_close(&p);
}

/* The 42.zip-style bomb through the whole pipeline: a limit verdict,
 * within the byte budget, bounded time and memory. */
static void test_pipeline_bomb(void)
{
	struct pipe p;
	if (pipe_open(&p, "limits:\n  decompressed_bytes: 32 MiB\n") != 0) {
		CHECK(0);
		return;
	}
	struct out o;
	struct ent z = {"zeros.bin", NULL, 64u << 20};
	CHECK(build(&o, "zip", NULL, NULL, NULL, &z, 1) == 0);
	for (int level = 0; level < 3; level++) {
		struct ent e[16];
		char names[16][16];
		for (int i = 0; i < 16; i++) {
			snprintf(names[i], sizeof(names[i]), "%x.zip", i);
			e[i] = (struct ent){names[i], o.p, o.n};
		}
		struct out next;
		CHECK(build(&next, "zip", NULL, NULL, NULL, e, 16) == 0);
		out_free(&o);
		o = next;
	}
	struct out m;
	mail_with(&m, "42.zip", o.p, o.n);
	long rss0 = peak_rss_reset();
	double t0 = mono_s();
	CHECK_EQ_INT(scan_message(p.ctx, m.p, m.n, NULL, NULL, 0, &pv), 0);
	double t1 = mono_s();
	long rss1 = peak_rss_kib();
	CHECK_EQ_INT(pv.cls, SCAN_LIMIT);
	CHECK(finding(&pv, SCAN_F_LIMIT, "archive-ratio") != NULL);
	CHECK(finding(&pv, SCAN_F_LIMIT, "archive-bytes") != NULL);
	CHECK_EQ_INT(pv.disposition, SCAN_QUARANTINE);
	printf("  pipeline: 42.zip-style bomb (%zu bytes mail) %.3f s, "
	       "%u findings, peak RSS +%ld KiB\n", m.n, t1 - t0,
	       pv.nfindings_total, rss1 - rss0);
	CHECK(t1 - t0 < 30.0);
	CHECK_MSG(rss1 - rss0 < 160 * 1024, "RSS +%ld KiB", rss1 - rss0);
	out_free(&o);
	out_free(&m);
	pipe_close(&p);
}

/* archive_depth 0: archives are not opened; 51 is refused at load. */
static void test_pipeline_config(void)
{
	struct pipe p;
	if (pipe_open(&p, "limits:\n  archive_depth: 0\n") != 0) {
		CHECK(0);
		return;
	}
	struct out z, m;
	CHECK(nested_zip(&z, 1) == 0);
	mail_with(&m, "a.zip", z.p, z.n);
	CHECK_EQ_INT(scan_message(p.ctx, m.p, m.n, NULL, NULL, 0, &pv), 0);
	CHECK(finding(&pv, SCAN_F_VIRUS, NULL) == NULL);
	CHECK_EQ_INT(pv.nparts, 3); /* root, text, zip: no members */
	out_free(&z);
	out_free(&m);
	pipe_close(&p);

	static const char *const bad[] = {
		"limits:\n  archive_depth: 51\n",
		"limits:\n  archive_time: 10\n",
		"limits:\n  archive_members: 0\n",
		"policies:\n  default:\n    - type: encrypted\n      max: 3\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512], y[1024];
		snprintf(y, sizeof(y), "%s%s", pipe_yaml, bad[i]);
		struct conf_doc *d = NULL;
		struct scan_config *c = NULL;
		int rc = conf_load_string("t.conf", y, strlen(y), &d, err,
					  sizeof(err));
		if (rc == 0)
			rc = scan_config_from_conf(d, &c, err, sizeof(err));
		CHECK_MSG(rc == -EINVAL && strstr(err, "t.conf:") != NULL,
			  "row %zu: rc %d '%s'", i, rc, err);
		conf_free(d);
		scan_config_free(c);
	}
}

int main(void)
{
	fill_rnd();
	RUN(test_formats);
	RUN(test_rar_lha);
	RUN(test_clamav_testfiles);
	RUN(test_nested_eicar);
	RUN(test_recursive_bomb);
	RUN(test_overlap_bomb);
	RUN(test_encrypted);
	RUN(test_encrypted_7z);
	RUN(test_corrupt);
	RUN(test_sanitise);
	RUN(test_limits);
	RUN(test_hidden_local);
	RUN(test_sfx);
	RUN(test_pipeline_nested);
	RUN(test_pipeline_encrypted);
	RUN(test_pipeline_bomb);
	RUN(test_pipeline_config);
	return CHECK_DONE();
}
