/* scan/archive.c - one container layer through libarchive; see archive.h. */
#include "scan/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUF_MIN (64u * 1024u)    /* first size of a member buffer */
#define ZIP_SPANS_MAX 65536u     /* central directory entries checked */

static const char *const ev_names[SCAN_ARC_EV_COUNT] = {
	[SCAN_ARC_EV_NONE] = "",
	[SCAN_ARC_EV_DEPTH] = "archive-depth",
	[SCAN_ARC_EV_BYTES] = "archive-bytes",
	[SCAN_ARC_EV_MEMBERS] = "archive-members",
	[SCAN_ARC_EV_MEMBER_SIZE] = "archive-member-size",
	[SCAN_ARC_EV_RATIO] = "archive-ratio",
	[SCAN_ARC_EV_TIME] = "archive-time",
	[SCAN_ARC_EV_CORRUPT] = "archive-corrupt",
	[SCAN_ARC_EV_OVERLAP] = "archive-overlap",
	[SCAN_ARC_EV_ENC_MEMBER] = "encrypted-member",
	[SCAN_ARC_EV_ENC_ARCHIVE] = "encrypted-archive",
};

const char *scan_arc_event_name(enum scan_arc_event_kind k)
{
	return (unsigned)k < SCAN_ARC_EV_COUNT ? ev_names[k] : "";
}

enum scan_arc_event_class scan_arc_event_class(enum scan_arc_event_kind k)
{
	switch (k) {
	case SCAN_ARC_EV_DEPTH:
	case SCAN_ARC_EV_BYTES:
	case SCAN_ARC_EV_MEMBERS:
	case SCAN_ARC_EV_MEMBER_SIZE:
	case SCAN_ARC_EV_RATIO:
	case SCAN_ARC_EV_TIME:
		return SCAN_ARC_CLASS_LIMIT;
	case SCAN_ARC_EV_CORRUPT:
	case SCAN_ARC_EV_OVERLAP:
		return SCAN_ARC_CLASS_MALFORMED;
	case SCAN_ARC_EV_ENC_MEMBER:
	case SCAN_ARC_EV_ENC_ARCHIVE:
		return SCAN_ARC_CLASS_ENCRYPTED;
	default:
		return SCAN_ARC_CLASS_NONE;
	}
}

void scan_arc_budget_init(struct scan_arc_budget *b)
{
	memset(b, 0, sizeof(*b));
	b->max_bytes = SCAN_ARC_DEF_BYTES;
	b->max_members = SCAN_ARC_DEF_MEMBERS;
	b->max_member_size = SCAN_ARC_DEF_MEMBER_SIZE;
	b->max_ratio = SCAN_ARC_DEF_RATIO;
	b->ratio_floor = SCAN_ARC_DEF_RATIO_FLOOR;
	b->max_depth = SCAN_ARC_DEF_DEPTH;
}

void scan_arc_buf_fini(struct scan_arc_buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}

int scan_arc_handles(enum scan_ftype t)
{
	switch (t) {
	case SCAN_FT_ZIP: case SCAN_FT_JAR: case SCAN_FT_RAR: case SCAN_FT_7Z:
	case SCAN_FT_GZIP: case SCAN_FT_BZIP2: case SCAN_FT_XZ:
	case SCAN_FT_ZSTD: case SCAN_FT_LZ4: case SCAN_FT_CAB:
	case SCAN_FT_TAR: case SCAN_FT_CPIO: case SCAN_FT_AR:
	case SCAN_FT_LZH: case SCAN_FT_ISO9660:
	case SCAN_FT_OOXML: case SCAN_FT_DOCX: case SCAN_FT_XLSX:
	case SCAN_FT_PPTX: case SCAN_FT_ODF:
		return 1;
	default:
		return 0;
	}
}

/* --- member names --------------------------------------------------------- */

#define TAIL_MAX 64

/* Output with a bounded head and the last bytes kept in a ring, so an
 * overlong name keeps its beginning and its extension. */
struct pathw {
	char *out;
	size_t head_cap; /* bytes of out usable for the whole string */
	size_t len;      /* bytes written in total */
	char ring[TAIL_MAX];
	size_t tail_cap;
};

static void pw_byte(struct pathw *w, char ch)
{
	if (w->len < w->head_cap)
		w->out[w->len] = ch;
	w->ring[w->len % w->tail_cap] = ch;
	w->len++;
}

static void pw_bytes(struct pathw *w, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pw_byte(w, s[i]);
}

/* Length of a valid UTF-8 sequence at s[0..n) and its code point, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		len = 2, v = c & 0x1Fu, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, v = c & 0x0Fu, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, v = c & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

static int cp_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
	       cp == 0x200E || cp == 0x200F ||
	       (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* Copy one component, replacing what is not safe UTF-8 text. */
static int pw_component(struct pathw *w, const unsigned char *s, size_t n)
{
	int odd = 0;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t k = utf8_seq(s + i, n - i, &cp);
		if (k == 0 || cp_unsafe(cp)) {
			pw_byte(w, '?');
			odd = 1;
			i += k ? k : 1;
			continue;
		}
		pw_bytes(w, (const char *)s + i, k);
		i += k;
	}
	return odd;
}

int scan_arc_sanitise_path(const char *raw, char *out, size_t outsz)
{
	struct pathw w = {.out = out, .head_cap = outsz - 1};
	w.tail_cap = (outsz - 2) / 2 < TAIL_MAX ? (outsz - 2) / 2 : TAIL_MAX;
	int odd = 0;
	if (raw == NULL)
		raw = "";
	const unsigned char *p = (const unsigned char *)raw;
	if (*p == '/' || *p == '\\')
		odd = 1; /* absolute */
	int first = 1, emitted = 0;
	while (*p != '\0') {
		while (*p == '/' || *p == '\\')
			p++;
		const unsigned char *s = p;
		while (*p != '\0' && *p != '/' && *p != '\\')
			p++;
		size_t n = (size_t)(p - s);
		int was_first = first;
		first = 0;
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (was_first && n == 2 && s[1] == ':' &&
		    ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z')) {
			odd = 1; /* drive letter */
			continue;
		}
		if (emitted)
			pw_byte(&w, '/');
		emitted = 1;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			pw_bytes(&w, "__", 2);
			odd = 1;
			continue;
		}
		odd |= pw_component(&w, s, n);
	}
	if (w.len == 0) {
		snprintf(out, outsz, "(unnamed)");
		return odd;
	}
	if (w.len <= w.head_cap) {
		out[w.len] = '\0';
		return odd;
	}
	/* Too long: head, '~', the last tail_cap bytes, on character
	 * boundaries. */
	size_t tail = w.tail_cap;
	size_t head = w.head_cap - 1 - tail;
	while (head > 0 && ((unsigned char)out[head] & 0xC0) == 0x80)
		head--;
	out[head++] = '~';
	size_t start = w.len - tail;
	while (tail > 0 &&
	       ((unsigned char)w.ring[start % w.tail_cap] & 0xC0) == 0x80) {
		start++;
		tail--;
	}
	for (size_t i = 0; i < tail; i++)
		out[head++] = w.ring[(start + i) % w.tail_cap];
	out[head] = '\0';
	return 1;
}

/* --- the walker ----------------------------------------------------------- */

struct scan_arc {
	struct archive *a;
	const uint8_t *d;
	size_t n;
	unsigned depth;
	struct scan_arc_budget *b;
	struct scan_arc_buf *buf;
	struct archive_entry *pending; /* first header, read by open */
	int done;
	int is_zip;
	int local_pass;      /* reading the zip's local headers */
	size_t hidden_off;   /* first local header the central dir omits */
	int has_hidden;
	unsigned index;
	uint64_t layer_out;  /* bytes produced by this layer */
	char path[SCAN_ARC_PATH_MAX];
	char fmt[64];
	char filter[32];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int past_deadline(const struct scan_arc_budget *b)
{
	return b->deadline_ns != 0 && now_ns() >= b->deadline_ns;
}

static void ev_clear(struct scan_arc_event *ev)
{
	ev->kind = SCAN_ARC_EV_NONE;
	ev->first = 0;
	ev->detail[0] = '\0';
}

/* Printable ASCII only: libarchive's messages can quote input bytes. */
static void ev_set(struct scan_arc_budget *b, struct scan_arc_event *ev,
		   enum scan_arc_event_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void ev_set(struct scan_arc_budget *b, struct scan_arc_event *ev,
		   enum scan_arc_event_kind kind, const char *fmt, ...)
{
	ev->kind = kind;
	ev->first = !(b->reported & (1u << kind));
	b->reported |= 1u << kind;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev->detail, sizeof(ev->detail), fmt, ap);
	va_end(ap);
	for (char *s = ev->detail; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
			*s = '?';
}

static unsigned clamp_depth(unsigned d)
{
	if (d == 0)
		return 1;
	return d > SCAN_ARC_MAX_DEPTH ? SCAN_ARC_MAX_DEPTH : d;
}

static const char *arc_err(struct archive *a)
{
	const char *s = archive_error_string(a);
	return s != NULL ? s : "unknown error";
}

/* Did libarchive fail because something is encrypted? */
static int failed_on_encryption(struct archive *a)
{
	/* Only once a format was chosen: libarchive 3.6 dereferences the
	 * format without checking (found by fuzz_archive). */
	if (archive_format(a) != 0 && archive_read_has_encrypted_entries(a) > 0)
		return 1;
	const char *s = archive_error_string(a);
	return s != NULL && (strstr(s, "ncrypt") != NULL ||
			     strstr(s, "assphrase") != NULL);
}

/* A reader for the formats and filters above (zip_local_only: the zip
 * local-header reader alone). 0, -ENOMEM, or -ENOTSUP when this
 * libarchive would decompress something through an external program. */
static int arc_new(int zip_local_only, struct archive **out)
{
	*out = NULL;
	struct archive *a = archive_read_new();
	if (a == NULL)
		return -ENOMEM;
	int rc = ARCHIVE_OK;
	if (zip_local_only) {
		rc |= archive_read_support_format_zip_streamable(a);
		rc |= archive_read_support_filter_none(a);
	} else {
		/* Not format_all: mtree reads files named in the input from
		 * the local disk. Not filter_all: lrzip, lzop and grzip run
		 * external programs; uu is the pipeline's job. */
		rc |= archive_read_support_format_7zip(a);
		rc |= archive_read_support_format_ar(a);
		rc |= archive_read_support_format_cab(a);
		rc |= archive_read_support_format_cpio(a);
		rc |= archive_read_support_format_iso9660(a);
		rc |= archive_read_support_format_lha(a);
		rc |= archive_read_support_format_rar(a);
		rc |= archive_read_support_format_rar5(a);
		rc |= archive_read_support_format_tar(a);
		rc |= archive_read_support_format_xar(a);
		rc |= archive_read_support_format_warc(a);
		rc |= archive_read_support_format_zip_seekable(a);
		rc |= archive_read_support_format_zip_streamable(a);
		rc |= archive_read_support_format_raw(a);
		rc |= archive_read_support_filter_gzip(a);
		rc |= archive_read_support_filter_bzip2(a);
		rc |= archive_read_support_filter_xz(a);
		rc |= archive_read_support_filter_lzma(a);
		rc |= archive_read_support_filter_lzip(a);
		rc |= archive_read_support_filter_zstd(a);
		rc |= archive_read_support_filter_lz4(a);
		rc |= archive_read_support_filter_compress(a);
		rc |= archive_read_support_filter_rpm(a);
	}
	/* ARCHIVE_WARN (-20) from a filter means "through an external
	 * program": never from a scan thread. ARCHIVE_OK is 0, so any
	 * non-zero bit pattern is a refusal. */
	if (rc != ARCHIVE_OK) {
		archive_read_free(a);
		return -ENOTSUP;
	}
	*out = a;
	return 0;
}

/* --- zip layout: overlapping entries, local headers the central directory
 * does not list ---------------------------------------------------------- */

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

struct span {
	uint64_t start, end;
	uint32_t entry;
};

static int span_cmp(const void *x, const void *y)
{
	const struct span *a = x, *b = y;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->entry < b->entry ? -1 : a->entry > b->entry;
}

/* Zip64 extended information for a central directory entry. */
static void zip64_extra(const uint8_t *x, size_t xlen, uint64_t *usize,
			uint64_t *csize, uint64_t *lho)
{
	size_t i = 0;
	while (i + 4 <= xlen) {
		uint32_t id = le16(x + i), len = le16(x + i + 2);
		if (i + 4 + len > xlen)
			return;
		if (id == 0x0001) {
			const uint8_t *f = x + i + 4;
			size_t k = 0;
			if (*usize == 0xFFFFFFFFu && k + 8 <= len)
				*usize = le64(f + k), k += 8;
			if (*csize == 0xFFFFFFFFu && k + 8 <= len)
				*csize = le64(f + k), k += 8;
			if (*lho == 0xFFFFFFFFu && k + 8 <= len)
				*lho = le64(f + k);
			return;
		}
		i += 4 + len;
	}
}

/* Does a plausible local file header start at d[off]? */
static int local_header_at(const uint8_t *d, size_t n, size_t off)
{
	if (off > n || n - off < 30 || memcmp(d + off, "PK\3\4", 4) != 0)
		return 0;
	uint32_t method = le16(d + off + 8), nlen = le16(d + off + 26),
		 xlen = le16(d + off + 28);
	if (method != 0 && method != 8 && method != 9 && method != 12 &&
	    method != 14 && method != 93 && method != 95 && method != 98 &&
	    method != 99)
		return 0;
	return nlen > 0 && nlen <= 1024 && off + 30 + nlen + xlen <= n;
}

/* First plausible local header in d[from..to). */
static int find_local_header(const uint8_t *d, size_t n, size_t from,
			     size_t to, size_t *at)
{
	while (from + 4 <= to) {
		const uint8_t *p = memmem(d + from, to - from, "PK\3\4", 4);
		if (p == NULL)
			return 0;
		size_t off = (size_t)(p - d);
		if (local_header_at(d, n, off)) {
			*at = off;
			return 1;
		}
		from = off + 1;
	}
	return 0;
}

/* Check the central directory against the local headers: entries whose
 * data overlap are the non-recursive zip bomb (returns -ECANCELED with
 * the event set); local headers in bytes no entry covers are a hidden
 * listing (w->has_hidden, w->hidden_off). What cannot be parsed here is
 * left to libarchive. Returns 0, -ECANCELED or -ENOMEM. */
static int zip_layout(struct scan_arc *w, struct scan_arc_event *ev)
{
	const uint8_t *d = w->d;
	size_t n = w->n;
	if (n < 22)
		return 0;
	size_t lo = n - 22 > 65535 ? n - 22 - 65535 : 0;
	size_t eocd = SIZE_MAX;
	for (size_t i = n - 22 + 1; i-- > lo;)
		if (memcmp(d + i, "PK\5\6", 4) == 0) {
			eocd = i;
			break;
		}
	if (eocd == SIZE_MAX)
		return 0;
	uint64_t entries = le16(d + eocd + 10), cd_size = le32(d + eocd + 12),
		 cd_off = le32(d + eocd + 16);
	size_t cd_end = eocd;
	if (entries == 0xFFFF || cd_size == 0xFFFFFFFFu ||
	    cd_off == 0xFFFFFFFFu) {
		if (eocd < 20 || memcmp(d + eocd - 20, "PK\6\7", 4) != 0)
			return 0;
		uint64_t z = le64(d + eocd - 20 + 8);
		/* The locator's offset does not know about prepended data:
		 * the record sits right before the locator. */
		if (eocd < 20 + 56)
			return 0;
		size_t zr = eocd - 20 - 56;
		if (memcmp(d + zr, "PK\6\6", 4) != 0) {
			if (z > n - 56 || memcmp(d + z, "PK\6\6", 4) != 0)
				return 0;
			zr = (size_t)z;
		}
		entries = le64(d + zr + 32);
		cd_size = le64(d + zr + 40);
		cd_off = le64(d + zr + 48);
		cd_end = zr;
	}
	if (cd_size > cd_end)
		return 0;
	size_t cd = cd_end - (size_t)cd_size;
	if (cd < cd_off)
		return 0;
	uint64_t corr = cd - cd_off; /* bytes prepended (self-extractors) */
	if (entries > ZIP_SPANS_MAX)
		entries = ZIP_SPANS_MAX;
	if (entries > cd_size / 46)
		entries = cd_size / 46;
	if (entries == 0)
		return 0;
	struct span *sp = malloc((size_t)entries * sizeof(*sp));
	if (sp == NULL)
		return -ENOMEM;
	size_t ns = 0, pos = cd;
	for (uint32_t i = 0; i < entries; i++) {
		if (pos + 46 > cd_end || memcmp(d + pos, "PK\1\2", 4) != 0)
			break;
		uint64_t csize = le32(d + pos + 20), usize = le32(d + pos + 24);
		uint32_t nlen = le16(d + pos + 28), xlen = le16(d + pos + 30),
			 clen = le16(d + pos + 32);
		uint64_t lho = le32(d + pos + 42);
		if (pos + 46 + nlen + xlen > cd_end)
			break;
		zip64_extra(d + pos + 46 + nlen, xlen, &usize, &csize, &lho);
		pos += 46 + (size_t)nlen + xlen + clen;
		uint64_t lh = lho + corr;
		if (lh >= n || n - lh < 30 ||
		    memcmp(d + lh, "PK\3\4", 4) != 0)
			continue;
		uint64_t start = lh, data = lh + 30 + le16(d + lh + 26) +
					    le16(d + lh + 28);
		uint64_t end = data + csize;
		if (end < data || end > n)
			end = n;
		sp[ns++] = (struct span){start, end, i};
	}
	qsort(sp, ns, sizeof(*sp), span_cmp);
	for (size_t i = 1; i < ns; i++) {
		if (sp[i].start < sp[i - 1].end) {
			ev_set(w->b, ev, SCAN_ARC_EV_OVERLAP,
			       "zip entries %u and %u share bytes at offset "
			       "%llu (%zu entries checked): non-recursive "
			       "zip bomb or damaged archive",
			       sp[i - 1].entry + 1, sp[i].entry + 1,
			       (unsigned long long)sp[i].start, ns);
			free(sp);
			return -ECANCELED;
		}
	}
	/* Gaps no entry covers, up to the central directory. */
	uint64_t from = 0;
	for (size_t i = 0; i <= ns && !w->has_hidden; i++) {
		uint64_t to = i < ns ? sp[i].start : cd;
		size_t at;
		if (to > from && find_local_header(d, n, (size_t)from,
						   (size_t)to, &at)) {
			w->has_hidden = 1;
			w->hidden_off = at;
		}
		if (i < ns && sp[i].end > from)
			from = sp[i].end;
	}
	free(sp);
	return 0;
}

/* --- open, next, close --------------------------------------------------- */

static void note_names(struct scan_arc *w)
{
	const char *f = archive_format_name(w->a);
	snprintf(w->fmt, sizeof(w->fmt), "%s", f != NULL ? f : "?");
	const char *fl = archive_filter_count(w->a) > 0
				 ? archive_filter_name(w->a, 0) : NULL;
	snprintf(w->filter, sizeof(w->filter), "%s", fl != NULL ? fl : "none");
}

int scan_arc_open(struct scan_arc **out, const uint8_t *d, size_t n,
		  unsigned depth, struct scan_arc_budget *b,
		  struct scan_arc_buf *buf, struct scan_arc_event *ev)
{
	*out = NULL;
	ev_clear(ev);
	if (depth > clamp_depth(b->max_depth)) {
		ev_set(b, ev, SCAN_ARC_EV_DEPTH,
		       "container at depth %u, limit %u: not opened", depth,
		       clamp_depth(b->max_depth));
		return -ECANCELED;
	}
	if (past_deadline(b)) {
		ev_set(b, ev, SCAN_ARC_EV_TIME,
		       "time budget spent before layer %u", depth);
		return -ECANCELED;
	}
	if (b->max_bytes != 0 && b->bytes >= b->max_bytes) {
		ev_set(b, ev, SCAN_ARC_EV_BYTES,
		       "%llu bytes decompressed, limit %llu: layer %u not "
		       "opened", (unsigned long long)b->bytes,
		       (unsigned long long)b->max_bytes, depth);
		return -ECANCELED;
	}
	if (b->max_members != 0 && b->members >= b->max_members) {
		ev_set(b, ev, SCAN_ARC_EV_MEMBERS,
		       "%u archive members, limit %u: layer %u not opened",
		       b->members, b->max_members, depth);
		return -ECANCELED;
	}
	if (n == 0) {
		ev_set(b, ev, SCAN_ARC_EV_CORRUPT, "empty container");
		return -ECANCELED;
	}
	struct scan_arc *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->d = d;
	w->n = n;
	w->depth = depth;
	w->b = b;
	w->buf = buf;
	int rc = arc_new(0, &w->a);
	if (rc < 0) {
		free(w);
		return rc;
	}
	rc = archive_read_open_memory(w->a, d, n);
	if (rc == ARCHIVE_OK) {
		rc = archive_read_next_header(w->a, &w->pending);
		note_names(w);
	}
	if (rc == ARCHIVE_EOF) {
		w->pending = NULL;
		w->done = 1;
	} else if (rc < ARCHIVE_WARN) {
		if (failed_on_encryption(w->a))
			ev_set(b, ev, SCAN_ARC_EV_ENC_ARCHIVE,
			       "encrypted archive listing (%s): %s", w->fmt,
			       arc_err(w->a));
		else
			ev_set(b, ev, SCAN_ARC_EV_CORRUPT,
			       "cannot read the archive: %s", arc_err(w->a));
		scan_arc_close(w);
		return -ECANCELED;
	}
	if (!w->done && archive_format(w->a) == ARCHIVE_FORMAT_RAW &&
	    archive_filter_code(w->a, 0) == ARCHIVE_FILTER_NONE) {
		ev_set(b, ev, SCAN_ARC_EV_CORRUPT,
		       "not an archive format libarchive can read");
		scan_arc_close(w);
		return -ECANCELED;
	}
	w->is_zip = (archive_format(w->a) & ARCHIVE_FORMAT_BASE_MASK) ==
		    ARCHIVE_FORMAT_ZIP;
	if (w->is_zip) {
		rc = zip_layout(w, ev);
		if (rc < 0) {
			scan_arc_close(w);
			return rc;
		}
	}
	b->layers++;
	if (depth > b->deepest)
		b->deepest = depth;
	*out = w;
	return 0;
}

/* After the central directory, read the local headers from the first one
 * it left out. Errors there end the pass quietly: the central directory's
 * view was complete, this one is a second opinion. */
static int start_local_pass(struct scan_arc *w)
{
	w->has_hidden = 0;
	archive_read_free(w->a);
	int rc = arc_new(1, &w->a);
	if (rc < 0)
		return rc;
	w->local_pass = 1;
	if (archive_read_open_memory(w->a, w->d + w->hidden_off,
				     w->n - w->hidden_off) != ARCHIVE_OK)
		w->done = 1;
	return 0;
}

/* Room in the buffer for at least one more byte; grows by doubling. */
static int buf_room(struct scan_arc_buf *buf, size_t len, uint64_t limit)
{
	if (len < buf->cap)
		return 0;
	uint64_t want = buf->cap < BUF_MIN ? BUF_MIN : (uint64_t)buf->cap * 2;
	if (want > limit)
		want = limit;
	if (want <= len)
		want = len + 1;
	if (want > SIZE_MAX)
		return -ENOMEM;
	uint8_t *p = realloc(buf->p, (size_t)want);
	if (p == NULL)
		return -ENOMEM;
	buf->p = p;
	buf->cap = (size_t)want;
	return 0;
}

/* Reading a member's data failed: encrypted (the error says so; the
 * archive-wide flag is not enough, it may be another member), else
 * corrupt with the prefix read so far. */
static int entry_error(struct scan_arc *w, struct scan_arc_member *m,
		       struct scan_arc_event *ev, int rc)
{
	const char *s = archive_error_string(w->a);
	if (s != NULL && (strstr(s, "ncrypt") != NULL ||
			  strstr(s, "assphrase") != NULL)) {
		m->flags |= SCAN_ARC_M_ENCRYPTED;
		m->data = NULL;
		m->len = 0; /* ciphertext is not the member */
		ev_set(w->b, ev, SCAN_ARC_EV_ENC_MEMBER,
		       "'%s' is encrypted (%s): %s", m->path, w->fmt,
		       arc_err(w->a));
	} else {
		m->flags |= SCAN_ARC_M_TRUNCATED;
		ev_set(w->b, ev, SCAN_ARC_EV_CORRUPT,
		       "'%s' after %zu bytes: %s", m->path, m->len,
		       arc_err(w->a));
	}
	if (rc <= ARCHIVE_FATAL)
		w->done = 1;
	return 1;
}

/* Stop at a limit inside a member: the prefix read so far is yielded. */
static int member_cut(struct scan_arc *w, struct scan_arc_member *m,
		      struct scan_arc_event *ev, int bytes_bound)
{
	struct scan_arc_budget *b = w->b;
	m->flags |= SCAN_ARC_M_CUT;
	if (bytes_bound) {
		ev_set(b, ev, SCAN_ARC_EV_BYTES,
		       "more than %llu bytes decompressed from archives "
		       "(stopped in '%s')", (unsigned long long)b->max_bytes,
		       m->path);
		w->done = 1;
	} else {
		ev_set(b, ev, SCAN_ARC_EV_MEMBER_SIZE,
		       "'%s' is larger than %llu bytes; the rest was not "
		       "scanned", m->path,
		       (unsigned long long)b->max_member_size);
	}
	return 1;
}

/* Over the ratio (per zip member, or for the layer)? Sets the event. */
static int over_ratio(struct scan_arc *w, struct scan_arc_member *m,
		      struct scan_arc_event *ev, int64_t in0)
{
	struct scan_arc_budget *b = w->b;
	uint64_t ratio = b->max_ratio, len = m->len;
	if (ratio == 0)
		return 0;
	/* Per member for zip (members are compressed apart); for solid
	 * and stream formats the input cannot be split by member, so the
	 * layer's ratio stands for all. */
	int64_t used = archive_filter_bytes(w->a, -1) - in0;
	if (w->is_zip && len > b->ratio_floor && used > 0 &&
	    len / (uint64_t)used > ratio) {
		ev_set(b, ev, SCAN_ARC_EV_RATIO,
		       "'%s' expands %llu:1 (%llu bytes from %lld), limit "
		       "%llu:1", m->path,
		       (unsigned long long)(len / (uint64_t)used),
		       (unsigned long long)len, (long long)used,
		       (unsigned long long)ratio);
		return 1;
	}
	if (w->layer_out > b->ratio_floor && w->layer_out / w->n > ratio) {
		ev_set(b, ev, SCAN_ARC_EV_RATIO,
		       "layer %u (%zu bytes) expands to more than %llu bytes, "
		       "over %llu:1 (stopped in '%s')", w->depth, w->n,
		       (unsigned long long)w->layer_out,
		       (unsigned long long)ratio, m->path);
		return 1;
	}
	return 0;
}

/* Read the current entry's data into the caller's buffer, block by
 * block: archive_read_data() drops what it copied when a later block
 * fails, so a truncated member would lose its prefix. */
static int read_data(struct scan_arc *w, struct scan_arc_member *m,
		     struct scan_arc_event *ev)
{
	struct scan_arc_budget *b = w->b;
	struct scan_arc_buf *buf = w->buf;
	uint64_t mcap = b->max_member_size ? b->max_member_size : UINT64_MAX;
	int64_t in0 = archive_filter_bytes(w->a, -1);
	size_t len = 0;
	for (;;) {
		m->data = buf->p;
		m->len = len;
		if (past_deadline(b)) {
			m->flags |= SCAN_ARC_M_CUT;
			ev_set(b, ev, SCAN_ARC_EV_TIME,
			       "time budget spent in '%s' after %zu bytes "
			       "(layer %u)", m->path, len, w->depth);
			w->done = 1;
			return 1;
		}
		const void *blk;
		size_t bsz;
		la_int64_t off;
		int r = archive_read_data_block(w->a, &blk, &bsz, &off);
		if (r == ARCHIVE_EOF)
			return 1;
		if (r < ARCHIVE_WARN)
			return entry_error(w, m, ev, r);
		/* A sparse hole reads as zeros, within the same limits. */
		uint64_t hole = off > 0 && (uint64_t)off > len
					? (uint64_t)off - len : 0;
		while (hole > 0 || bsz > 0) {
			uint64_t room = mcap - len;
			int bytes_bound = 0;
			if (b->max_bytes != 0 && b->max_bytes - b->bytes < room) {
				room = b->max_bytes - b->bytes;
				bytes_bound = 1;
			}
			if (room == 0)
				return member_cut(w, m, ev, bytes_bound);
			if (buf_room(buf, len, len + room) < 0) {
				w->done = 1;
				return -ENOMEM;
			}
			size_t k = buf->cap - len;
			if (k > room)
				k = (size_t)room;
			if (hole > 0) {
				if (k > hole)
					k = (size_t)hole;
				memset(buf->p + len, 0, k);
				hole -= k;
			} else {
				if (k > bsz)
					k = bsz;
				memcpy(buf->p + len, blk, k);
				blk = (const uint8_t *)blk + k;
				bsz -= k;
			}
			len += k;
			b->bytes += k;
			w->layer_out += k;
			m->data = buf->p;
			m->len = len;
		}
		if (over_ratio(w, m, ev, in0)) {
			m->flags |= SCAN_ARC_M_CUT;
			w->done = 1;
			return 1;
		}
	}
}

int scan_arc_next(struct scan_arc *w, struct scan_arc_member *m,
		  struct scan_arc_event *ev)
{
	ev_clear(ev);
	memset(m, 0, sizeof(*m));
	struct scan_arc_budget *b = w->b;
	for (;;) {
		if (w->done)
			return 0;
		struct archive_entry *e = w->pending;
		w->pending = NULL;
		if (e == NULL) {
			if (past_deadline(b)) {
				ev_set(b, ev, SCAN_ARC_EV_TIME,
				       "time budget spent in layer %u after "
				       "%u members", w->depth, w->index);
				w->done = 1;
				return 0;
			}
			int rc = archive_read_next_header(w->a, &e);
			if (rc == ARCHIVE_EOF) {
				if (!w->local_pass && w->has_hidden) {
					int lrc = start_local_pass(w);
					if (lrc < 0) {
						w->done = 1;
						return lrc;
					}
					continue;
				}
				w->done = 1;
				return 0;
			}
			if (rc < ARCHIVE_WARN) {
				w->done = 1;
				if (w->local_pass)
					return 0;
				if (failed_on_encryption(w->a))
					ev_set(b, ev, SCAN_ARC_EV_ENC_ARCHIVE,
					       "encrypted archive listing "
					       "(%s): %s", w->fmt,
					       arc_err(w->a));
				else
					ev_set(b, ev, SCAN_ARC_EV_CORRUPT,
					       "listing broken after %u "
					       "members: %s", w->index,
					       arc_err(w->a));
				return 0;
			}
		}
		b->members++;
		if (b->max_members != 0 && b->members > b->max_members) {
			ev_set(b, ev, SCAN_ARC_EV_MEMBERS,
			       "more than %u archive members (stopped in "
			       "layer %u)", b->max_members, w->depth);
			w->done = 1;
			return 0;
		}
		unsigned ft = archive_entry_filetype(e);
		if (ft != AE_IFREG && ft != 0)
			continue; /* directory, link, device */
		if (archive_entry_hardlink(e) != NULL &&
		    !(archive_entry_size_is_set(e) && archive_entry_size(e) > 0))
			continue; /* tar/cpio hard link: no data of its own */
		const char *raw = archive_entry_pathname_utf8(e);
		if (raw == NULL)
			raw = archive_entry_pathname(e);
		if (scan_arc_sanitise_path(raw, w->path, sizeof(w->path)))
			m->flags |= SCAN_ARC_M_PATH_ODD;
		m->path = w->path;
		const char *slash = strrchr(w->path, '/');
		m->name = slash != NULL ? slash + 1 : w->path;
		m->declared_size = archive_entry_size_is_set(e)
					   ? archive_entry_size(e) : -1;
		m->index = w->index++;
		if (archive_format(w->a) == ARCHIVE_FORMAT_RAW)
			m->flags |= SCAN_ARC_M_STREAM;
		if (w->local_pass)
			m->flags |= SCAN_ARC_M_LOCAL;
		if (archive_entry_is_data_encrypted(e)) {
			m->flags |= SCAN_ARC_M_ENCRYPTED;
			ev_set(b, ev, SCAN_ARC_EV_ENC_MEMBER,
			       "'%s' is encrypted (%s)", m->path, w->fmt);
			return 1;
		}
		return read_data(w, m, ev);
	}
}

const char *scan_arc_format(const struct scan_arc *w)
{
	return w->fmt;
}

const char *scan_arc_filter(const struct scan_arc *w)
{
	return w->filter;
}

void scan_arc_close(struct scan_arc *w)
{
	if (w == NULL)
		return;
	if (w->a != NULL)
		archive_read_free(w->a);
	free(w);
}
