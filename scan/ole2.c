/* scan/ole2.c - VBA projects, XLM sheets and encryption in an OLE2
 * compound file; see ole2.h. MS-CFB section numbers in the comments. */
#include <errno.h>
#include <string.h>

#include "scan/ole2.h"

#define NOSTREAM 0xffffffffu   /* directory: no sibling/child */
#define FREESECT 0xffffffffu
#define ENDOFCHAIN 0xfffffffeu
#define MAXREGSECT 0xfffffffau

#define ENT_STORAGE 1
#define ENT_STREAM 2
#define ENT_ROOT 5

struct cfb {
	const uint8_t *d;
	size_t n;
	struct scan_ole2_work *w;
	struct scan_ole2_info *out;
	unsigned ssz;       /* sector size */
	uint32_t nsec;      /* sectors in the file (last one may be short) */
	uint32_t nfat;      /* entries of w->fat_sec */
	uint32_t nentries;  /* directory entries addressable */
	unsigned version;   /* 3 or 4 */
	uint32_t steps;     /* chain steps so far (SCAN_OLE2_MAX_STEPS) */
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void stop(struct cfb *f, const char *why)
{
	f->out->flags |= SCAN_OLE2_PARTIAL;
	if (f->out->problem == NULL)
		f->out->problem = why;
}

/* Sector s: pointer and the bytes of it inside the file (the last sector
 * may be short), or NULL when it starts past the end. */
static const uint8_t *sector(const struct cfb *f, uint32_t s, size_t *avail)
{
	if (s > MAXREGSECT || s >= f->nsec)
		return NULL;
	size_t off = ((size_t)s + 1) * f->ssz;
	if (off >= f->n)
		return NULL;
	size_t a = f->n - off;
	*avail = a < f->ssz ? a : f->ssz;
	return f->d + off;
}

/* FAT[s] (2.3), or FREESECT when s is not covered by a readable FAT
 * sector. Counts a step; past the budget returns FREESECT too. */
static uint32_t fat_next(struct cfb *f, uint32_t s)
{
	if (++f->steps > SCAN_OLE2_MAX_STEPS) {
		stop(f, "too many sector-chain steps");
		return FREESECT;
	}
	uint32_t per = f->ssz / 4;
	uint32_t idx = s / per;
	if (idx >= f->nfat)
		return FREESECT;
	size_t avail;
	const uint8_t *p = sector(f, f->w->fat_sec[idx], &avail);
	size_t at = (size_t)(s % per) * 4;
	if (p == NULL || at + 4 > avail)
		return FREESECT;
	return rd32(p + at);
}

/* The FAT sector list from the header's 109 DIFAT entries and the DIFAT
 * chain (2.5). */
static void load_fat(struct cfb *f)
{
	const uint8_t *h = f->d;
	uint32_t want = rd32(h + 44);
	if (want > f->nsec)
		want = f->nsec; /* cannot have more FAT sectors than sectors */
	if (want > SCAN_OLE2_MAX_FAT_SECTORS) {
		want = SCAN_OLE2_MAX_FAT_SECTORS;
		stop(f, "FAT larger than the reader's limit");
	}
	uint32_t k = 0;
	for (unsigned i = 0; i < 109 && k < want; i++) {
		uint32_t s = rd32(h + 76 + 4 * i);
		if (s > MAXREGSECT)
			break;
		f->w->fat_sec[k++] = s;
	}
	uint32_t ds = rd32(h + 68);
	uint32_t per = f->ssz / 4 - 1; /* last entry: next DIFAT sector */
	for (uint32_t hops = 0; k < want && ds <= MAXREGSECT; hops++) {
		size_t avail;
		const uint8_t *p = sector(f, ds, &avail);
		if (p == NULL || avail < f->ssz || hops >= f->nsec) {
			stop(f, p == NULL || avail < f->ssz
					? "DIFAT sector outside the file"
					: "DIFAT chain loops");
			break;
		}
		for (uint32_t i = 0; i < per && k < want; i++) {
			uint32_t s = rd32(p + 4 * i);
			if (s > MAXREGSECT)
				break;
			f->w->fat_sec[k++] = s;
		}
		ds = rd32(p + 4 * per);
	}
	f->nfat = k;
}

/* The directory's sector chain (2.6) into w->dir_sec. */
static int load_dir(struct cfb *f)
{
	uint32_t s = rd32(f->d + 48);
	uint32_t k = 0;
	while (s <= MAXREGSECT) {
		if (k >= SCAN_OLE2_MAX_DIR_SECTORS) {
			stop(f, "directory larger than the reader's limit");
			break;
		}
		if (k >= f->nsec) {
			stop(f, "directory chain loops");
			break;
		}
		size_t avail;
		if (sector(f, s, &avail) == NULL) {
			stop(f, "directory sector outside the file");
			break;
		}
		f->w->dir_sec[k++] = s;
		s = fat_next(f, s);
		if (s == FREESECT) {
			stop(f, "directory chain broken");
			break;
		}
	}
	uint32_t per = f->ssz / 128;
	uint64_t ne = (uint64_t)k * per;
	f->nentries = ne > SCAN_OLE2_MAX_ENTRIES ? SCAN_OLE2_MAX_ENTRIES
						 : (uint32_t)ne;
	return k > 0 ? 0 : -EINVAL;
}

/* Directory entry i (128 bytes), or NULL when its sector is short. */
static const uint8_t *entry(const struct cfb *f, uint32_t i)
{
	if (i >= f->nentries)
		return NULL;
	uint32_t per = f->ssz / 128;
	size_t avail;
	const uint8_t *p = sector(f, f->w->dir_sec[i / per], &avail);
	size_t at = (size_t)(i % per) * 128;
	if (p == NULL || at + 128 > avail)
		return NULL;
	return p + at;
}

/* The entry's name as ASCII (others '?'), NUL-terminated: up to 31
 * characters (2.6.1: 64 bytes of UTF-16LE with the terminator). */
static void ent_name(const uint8_t *e, char out[32])
{
	unsigned len = rd16(e + 64);
	unsigned nc = len >= 2 ? len / 2 - 1 : 0;
	if (nc > 31)
		nc = 31;
	for (unsigned i = 0; i < nc; i++) {
		uint16_t ch = rd16(e + 2 * i);
		out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[nc] = '\0';
}

static int name_is(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
		if (x != y)
			return 0;
	}
	return *a == *b;
}

static int seen(const struct cfb *f, uint32_t i)
{
	return f->w->seen[i / 8] >> (i % 8) & 1;
}

/* Walk the red-black trees from the root storage (2.6.4): every entry
 * reached gets its storage in w->parent and a bit in w->seen. */
static void walk_tree(struct cfb *f)
{
	struct scan_ole2_work *w = f->w;
	memset(w->seen, 0, sizeof(w->seen));
	w->seen[0] = 1;
	w->parent[0] = 0;
	const uint8_t *root = entry(f, 0);
	uint32_t top = 0;
	uint32_t c = rd32(root + 76);
	/* The stack holds entry numbers; parent[] is written when an entry
	 * is pushed (only while unseen; it is marked seen when popped, so
	 * meeting it again is a loop). */
	if (c != NOSTREAM && c >= f->nentries)
		stop(f, "directory entry number out of range");
	else if (c != NOSTREAM) {
		w->parent[c] = 0;
		w->stack[top++] = (uint16_t)c;
	}
	unsigned reached = 1; /* the root */
	while (top > 0) {
		uint32_t i = w->stack[--top];
		if (seen(f, i)) {
			stop(f, "directory tree loops");
			continue;
		}
		w->seen[i / 8] |= (uint8_t)(1u << (i % 8));
		reached++;
		const uint8_t *e = entry(f, i);
		if (e == NULL) {
			stop(f, "directory entry outside the file");
			continue;
		}
		uint32_t next[3] = {rd32(e + 68), rd32(e + 72),
				    e[66] == ENT_STORAGE ? rd32(e + 76)
							 : NOSTREAM};
		for (int k = 0; k < 3; k++) {
			uint32_t j = next[k];
			if (j == NOSTREAM)
				continue;
			if (j >= f->nentries) {
				stop(f, "directory entry number out of range");
				continue;
			}
			if (seen(f, j)) {
				stop(f, "directory tree loops");
				continue;
			}
			if (top >= SCAN_OLE2_MAX_ENTRIES) {
				stop(f, "directory tree too large");
				continue;
			}
			w->parent[j] = k == 2 ? (uint16_t)i : w->parent[i];
			w->stack[top++] = (uint16_t)j;
		}
	}
	f->out->entries = reached;
}

/* "a/b/c" for entry i (at most 8 levels), ASCII. */
static void ent_path(const struct cfb *f, uint32_t i, char *out, size_t cap)
{
	uint32_t chain[8];
	unsigned depth = 0;
	while (i != 0 && depth < 8) {
		chain[depth++] = i;
		i = f->w->parent[i];
	}
	size_t len = 0;
	out[0] = '\0';
	while (depth > 0) {
		const uint8_t *e = entry(f, chain[--depth]);
		char name[32] = "?";
		if (e != NULL)
			ent_name(e, name);
		size_t k = strlen(name);
		if (len + k + 2 > cap)
			break;
		if (len > 0)
			out[len++] = '/';
		memcpy(out + len, name, k + 1);
		len += k;
	}
}

/* Up to cap (<= SCAN_OLE2_PEEK) bytes of stream entry e into w->peek
 * (2.4: a stream shorter than the cutoff lives in the mini stream).
 * Returns the number of bytes read. */
static size_t peek_stream(struct cfb *f, const uint8_t *e, size_t cap)
{
	uint8_t *dst = f->w->peek;
	uint64_t size = f->version == 4 ? (uint64_t)rd32(e + 120) |
						  (uint64_t)rd32(e + 124) << 32
					: rd32(e + 120);
	size_t want = size < cap ? (size_t)size : cap;
	uint32_t s = rd32(e + 116);
	size_t got = 0;
	if (size >= rd32(f->d + 56)) {
		for (uint32_t hops = 0; got < want && hops < f->nsec; hops++) {
			size_t avail;
			const uint8_t *p = sector(f, s, &avail);
			if (p == NULL)
				break;
			size_t k = want - got < avail ? want - got : avail;
			memcpy(dst + got, p, k);
			got += k;
			s = fat_next(f, s);
		}
		return got;
	}
	/* Mini stream: 64-byte sectors inside the root entry's stream,
	 * chained by the mini FAT (itself a FAT-chained stream). */
	const uint8_t *root = entry(f, 0);
	uint32_t mfat = rd32(f->d + 60);
	if (rd16(f->d + 32) != 6 || root == NULL)
		return 0;
	uint32_t rstart = rd32(root + 116);
	uint32_t per = f->ssz / 4;
	uint64_t maxhops = (uint64_t)f->nsec * (f->ssz / 64);
	for (uint64_t hops = 0; got < want && hops < maxhops; hops++) {
		/* container sector of mini sector s: walk the root chain */
		uint64_t off = (uint64_t)s * 64;
		uint32_t rs = rstart;
		for (uint64_t k = off / f->ssz; k > 0 && rs <= MAXREGSECT; k--)
			rs = fat_next(f, rs);
		size_t avail;
		const uint8_t *p = sector(f, rs, &avail);
		size_t at = (size_t)(off % f->ssz);
		if (p == NULL || at + 64 > avail)
			break;
		size_t k = want - got < 64 ? want - got : 64;
		memcpy(dst + got, p + at, k);
		got += k;
		/* mini FAT entry s */
		uint32_t ms = mfat;
		for (uint32_t k2 = s / per; k2 > 0 && ms <= MAXREGSECT; k2--)
			ms = fat_next(f, ms);
		const uint8_t *mp = sector(f, ms, &avail);
		if (mp == NULL || (size_t)(s % per) * 4 + 4 > avail)
			break;
		s = rd32(mp + (s % per) * 4);
		if (s > MAXREGSECT || f->steps > SCAN_OLE2_MAX_STEPS)
			break;
	}
	return got;
}

/* Workbook globals (BIFF5/8, [MS-XLS] 2.4): BOUNDSHEET sheet types and
 * FILEPASS, up to the globals' EOF. */
static void biff_globals(struct cfb *f, size_t len)
{
	const uint8_t *p = f->w->peek;
	int biff8 = 0;
	for (size_t at = 0; at + 4 <= len;) {
		uint16_t type = rd16(p + at), rl = rd16(p + at + 2);
		const uint8_t *r = p + at + 4;
		if (at + 4 + rl > len)
			break;
		if (at == 0) {
			if (type != 0x0809 && type != 0x0409 && type != 0x0209)
				return; /* no BOF: not a workbook we read */
			biff8 = type == 0x0809 && rl >= 2 &&
				rd16(r) == 0x0600;
		} else if (type == 0x000a) {
			return; /* EOF of the globals */
		} else if (type == 0x002f) {
			f->out->flags |= SCAN_OLE2_ENCRYPTED;
			if (f->out->encryption == NULL)
				f->out->encryption =
					"workbook FILEPASS record (password "
					"to open)";
		} else if (type == 0x0085 && rl >= 7 && r[5] == 0x01 &&
			   !(f->out->flags & SCAN_OLE2_XLM)) {
			f->out->flags |= SCAN_OLE2_XLM;
			static const char *const st[] = {
				"visible", "hidden", "very hidden", "hidden"};
			f->out->xlm_state = st[r[4] & 3];
			size_t cch = r[6], hdr = biff8 ? 8 : 7;
			int wide = biff8 && rl >= 8 && (r[7] & 1);
			size_t o = 0;
			for (size_t i = 0; i < cch && o + 1 <
			     sizeof(f->out->xlm_sheet); i++) {
				size_t at2 = hdr + i * (wide ? 2 : 1);
				if (at2 + (wide ? 2 : 1) > rl)
					break;
				unsigned ch = wide ? rd16(r + at2) : r[at2];
				f->out->xlm_sheet[o++] =
					ch >= 0x20 && ch < 0x7f ? (char)ch
								: '?';
			}
			f->out->xlm_sheet[o] = '\0';
		}
		at += 4 + (size_t)rl;
	}
}

int scan_ole2_is(const uint8_t *d, size_t n)
{
	static const uint8_t magic[8] = {0xd0, 0xcf, 0x11, 0xe0,
					 0xa1, 0xb1, 0x1a, 0xe1};
	return d != NULL && n >= 8 && memcmp(d, magic, 8) == 0;
}

int scan_ole2_inspect(const uint8_t *d, size_t n, struct scan_ole2_work *w,
		      struct scan_ole2_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!scan_ole2_is(d, n) || n < 512) {
		out->problem = "not an OLE2 compound file";
		return -EINVAL;
	}
	struct cfb f = {.d = d, .n = n, .w = w, .out = out};
	unsigned shift = rd16(d + 30);
	if (shift != 9 && shift != 12) {
		out->problem = "sector size is neither 512 nor 4096";
		return -EINVAL;
	}
	f.ssz = 1u << shift;
	f.version = rd16(d + 26) == 4 ? 4 : 3;
	out->sector_size = f.ssz;
	if (n <= f.ssz) {
		out->problem = "file ends inside the header";
		return -EINVAL;
	}
	uint64_t ns = (n - f.ssz + f.ssz - 1) / f.ssz;
	f.nsec = ns > MAXREGSECT ? MAXREGSECT : (uint32_t)ns;
	load_fat(&f);
	if (f.nfat == 0) {
		out->flags = 0;
		out->problem = "no FAT sector";
		return -EINVAL;
	}
	const char *fat_problem = out->problem;
	out->problem = NULL;
	if (load_dir(&f) < 0) {
		out->flags = 0;
		if (out->problem == NULL)
			out->problem = "no directory sector";
		return -EINVAL;
	}
	if (out->problem == NULL)
		out->problem = fat_problem;
	const uint8_t *root = entry(&f, 0);
	if (root == NULL || root[66] != ENT_ROOT) {
		out->flags = 0;
		out->problem = "first directory entry is not the root";
		return -EINVAL;
	}
	walk_tree(&f);
	uint32_t workbook = 0, worddoc = 0;
	for (uint32_t i = 1; i < f.nentries; i++) {
		if (!seen(&f, i))
			continue;
		const uint8_t *e = entry(&f, i);
		if (e == NULL)
			continue;
		char name[32], pname[32] = "";
		ent_name(e, name);
		uint32_t p = w->parent[i];
		const uint8_t *pe = entry(&f, p);
		if (pe != NULL && p != 0)
			ent_name(pe, pname);
		int stream = e[66] == ENT_STREAM, storage = e[66] == ENT_STORAGE;
		int in_macros = name_is(pname, "Macros") ||
				name_is(pname, "_VBA_PROJECT_CUR");
		uint32_t vba = NOSTREAM;
		if (stream && name_is(pname, "VBA") &&
		    (name_is(name, "dir") || name_is(name, "_VBA_PROJECT")))
			vba = p;
		else if (storage && name_is(name, "VBA") && in_macros)
			vba = i;
		else if (stream && name_is(name, "PROJECT") && in_macros)
			vba = p;
		if (vba != NOSTREAM && !(out->flags & SCAN_OLE2_VBA)) {
			out->flags |= SCAN_OLE2_VBA;
			ent_path(&f, vba, out->vba_path, sizeof(out->vba_path));
		}
		if (p == 0 && stream) {
			if (name_is(name, "EncryptedPackage") ||
			    name_is(name, "EncryptionInfo")) {
				out->flags |= SCAN_OLE2_ENCRYPTED;
				out->encryption = "EncryptedPackage/"
						  "EncryptionInfo streams "
						  "(encrypted OOXML)";
			}
			if (workbook == 0 && (name_is(name, "Workbook") ||
					      name_is(name, "Book")))
				workbook = i;
			if (worddoc == 0 && name_is(name, "WordDocument"))
				worddoc = i;
		}
	}
	if (workbook != 0)
		biff_globals(&f, peek_stream(&f, entry(&f, workbook),
					     SCAN_OLE2_PEEK));
	if (worddoc != 0 && peek_stream(&f, entry(&f, worddoc), 12) >= 12 &&
	    rd16(w->peek) == 0xa5ec && (rd16(w->peek + 10) & 0x0100)) {
		out->flags |= SCAN_OLE2_ENCRYPTED;
		if (out->encryption == NULL)
			out->encryption = "Word FIB fEncrypted (password to "
					  "open)";
	}
	return 0;
}
