/*
 * tests/unit/test_ole2.c - scan/ole2.c: VBA projects, XLM macro sheets and
 * encryption in compound files built by the test (tests/unit/ole_fixture.h),
 * then broken ones: loops, truncation, absurd counts, random damage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan/ole2.h"
#include "tests/unit/check.h"
#include "tests/unit/ole_fixture.h"

#define RND_SEED 0x01e2f00dULL
#include "tests/unit/rnd.h"

static struct scan_ole2_work *W;

#define N OLE_NONE

/* A Word 97 document: Root -> {WordDocument, Macros -> {VBA -> {dir,
 * _VBA_PROJECT}, PROJECT}}. Directory trees: root's child is entry 1;
 * siblings hang off left/right. */
static const struct ole_ent word97[] = {
	{"Root Entry", 5, N, N, 1, NULL, 0, 0},
	{"WordDocument", 2, N, 2, N, NULL, 0, 0},
	{"Macros", 1, N, N, 3, NULL, 0, 0},
	{"VBA", 1, N, 5, 4, NULL, 0, 0},
	{"dir", 2, N, 6, N, NULL, 0, 0},
	{"PROJECT", 2, N, N, N, NULL, 0, 0},
	{"_VBA_PROJECT", 2, N, N, N, NULL, 0, 0},
};

/* Excel: _VBA_PROJECT_CUR -> VBA -> dir (names in other case). */
static const struct ole_ent excel[] = {
	{"Root Entry", 5, N, N, 2, NULL, 0, 0},
	{"Workbook", 2, N, N, N, NULL, 0, 0},
	{"_vba_project_cur", 1, 1, N, 3, NULL, 0, 0},
	{"vba", 1, N, N, 4, NULL, 0, 0},
	{"DIR", 2, N, N, N, NULL, 0, 0},
};

/* A vbaProject.bin of OOXML: the project at the root. */
static const struct ole_ent vbabin[] = {
	{"Root Entry", 5, N, N, 1, NULL, 0, 0},
	{"VBA", 1, N, 2, 3, NULL, 0, 0},
	{"PROJECT", 2, N, N, N, NULL, 0, 0},
	{"_VBA_PROJECT", 2, N, N, N, NULL, 0, 0},
};

/* A project whose VBA storage is gone: Macros holds PROJECT only. */
static const struct ole_ent renamed[] = {
	{"Root Entry", 5, N, N, 1, NULL, 0, 0},
	{"Macros", 1, N, N, 2, NULL, 0, 0},
	{"PROJECT", 2, N, N, N, NULL, 0, 0},
};

/* Names that must not count: a "VBA" storage with no project stream,
 * a "dir" stream outside VBA, "PROJECT" at the root. */
static const struct ole_ent lookalike[] = {
	{"Root Entry", 5, N, N, 1, NULL, 0, 0},
	{"VBA", 1, N, 2, 4, NULL, 0, 0},
	{"dir", 2, N, 3, N, NULL, 0, 0},
	{"PROJECT", 2, N, N, N, NULL, 0, 0},
	{"Module1", 2, N, N, N, NULL, 0, 0},
};

static const struct ole_ent encrypted_ooxml[] = {
	{"Root Entry", 5, N, N, 1, NULL, 0, 0},
	{"EncryptionInfo", 2, N, 2, N, NULL, 0, 0},
	{"EncryptedPackage", 2, N, N, N, NULL, 0, 0},
};

/* An unreachable entry (not in any tree) named like a project. */
static const struct ole_ent orphan[] = {
	{"Root Entry", 5, N, N, 1, NULL, 0, 0},
	{"WordDocument", 2, N, N, N, NULL, 0, 0},
	{"Macros", 1, N, N, 3, NULL, 0, 0},
	{"VBA", 1, N, N, N, NULL, 0, 0},
};

struct want {
	const char *name;
	const struct ole_ent *e;
	unsigned ne;
	unsigned flags;
	const char *vba_path;
	unsigned entries;
};

#define ENTS(a) a, sizeof(a) / sizeof(a[0])

static const struct want trees[] = {
	{"word97", ENTS(word97), SCAN_OLE2_VBA, "Macros/VBA", 7},
	{"excel", ENTS(excel), SCAN_OLE2_VBA, "_vba_project_cur/vba", 5},
	{"vbaProject.bin", ENTS(vbabin), SCAN_OLE2_VBA, "VBA", 4},
	{"PROJECT without VBA", ENTS(renamed), SCAN_OLE2_VBA, "Macros", 3},
	{"look-alike names", ENTS(lookalike), 0, "", 5},
	{"encrypted OOXML", ENTS(encrypted_ooxml), SCAN_OLE2_ENCRYPTED, "",
	 3},
	{"unreachable entries", ENTS(orphan), 0, "", 2},
};

static void test_trees(void)
{
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		const struct want *t = &trees[i];
		size_t n;
		uint8_t *f = ole_build(t->e, t->ne, &n);
		struct scan_ole2_info oi;
		int rc = scan_ole2_inspect(f, n, W, &oi);
		CHECK_MSG(rc == 0, "%s: rc %d (%s)", t->name, rc,
			  oi.problem ? oi.problem : "");
		CHECK_MSG(oi.flags == t->flags, "%s: flags %#x, want %#x (%s)",
			  t->name, oi.flags, t->flags,
			  oi.problem ? oi.problem : "no problem");
		CHECK_MSG(strcmp(oi.vba_path, t->vba_path) == 0,
			  "%s: vba_path '%s', want '%s'", t->name,
			  oi.vba_path, t->vba_path);
		CHECK_MSG(oi.entries == t->entries, "%s: %u entries, want %u",
			  t->name, oi.entries, t->entries);
		CHECK_EQ_INT(oi.sector_size, 512);
		free(f);
	}
}

/* BIFF8 globals: BOF, optional FILEPASS, BOUNDSHEETs, EOF. */
static size_t biff(uint8_t *w, int filepass, uint8_t dt, uint8_t hs,
		   int wide)
{
	static const uint8_t bof[] = {0x09, 0x08, 0x10, 0x00, 0x00, 0x06,
				      0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
				      0, 0, 0, 0};
	size_t o = 0;
	memcpy(w, bof, sizeof(bof));
	o += sizeof(bof);
	if (filepass) {
		static const uint8_t fp[] = {0x2f, 0x00, 0x02, 0x00, 0, 0};
		memcpy(w + o, fp, sizeof(fp));
		o += sizeof(fp);
	}
	/* a worksheet first, then the sheet under test */
	static const uint8_t s1[] = {0x85, 0x00, 0x0e, 0x00, 0, 0, 0, 0, 0,
				     0x00, 0x06, 0x00, 'S', 'h', 'e', 'e',
				     't', '1'};
	memcpy(w + o, s1, sizeof(s1));
	o += sizeof(s1);
	const char *nm = "Auto_Open";
	size_t k = strlen(nm);
	size_t rl = 8 + k * (wide ? 2 : 1);
	uint8_t *r = w + o;
	r[0] = 0x85;
	r[1] = 0x00;
	r[2] = (uint8_t)rl;
	r[3] = 0;
	memset(r + 4, 0, 4);
	r[8] = hs;
	r[9] = dt;
	r[10] = (uint8_t)k;
	r[11] = wide ? 1 : 0;
	for (size_t i = 0; i < k; i++) {
		if (wide) {
			r[12 + 2 * i] = (uint8_t)nm[i];
			r[13 + 2 * i] = 0;
		} else {
			r[12 + i] = (uint8_t)nm[i];
		}
	}
	o += 4 + rl;
	static const uint8_t eof[] = {0x0a, 0x00, 0x00, 0x00};
	memcpy(w + o, eof, sizeof(eof));
	o += sizeof(eof);
	/* a macro sheet record after the globals' EOF does not count */
	if (dt == 0) {
		memcpy(w + o, r, 4 + rl);
		w[o + 9] = 1;
		o += 4 + rl;
	}
	return o;
}

struct xlm_case {
	const char *name;
	int filepass;
	uint8_t dt, hs;
	int wide, mini;
	unsigned flags;
	const char *state;
};

static const struct xlm_case xlms[] = {
	{"macro sheet", 0, 1, 0, 0, 0, SCAN_OLE2_XLM, "visible"},
	{"very hidden, UTF-16 name", 0, 1, 2, 1, 0, SCAN_OLE2_XLM,
	 "very hidden"},
	{"in the mini stream", 0, 1, 1, 0, 1, SCAN_OLE2_XLM, "hidden"},
	{"worksheet only", 0, 0, 0, 0, 0, 0, NULL},
	{"chart sheet", 0, 2, 0, 0, 1, 0, NULL},
	{"FILEPASS", 1, 0, 0, 0, 0, SCAN_OLE2_ENCRYPTED, NULL},
	{"FILEPASS, mini stream", 1, 1, 0, 0, 1,
	 SCAN_OLE2_ENCRYPTED | SCAN_OLE2_XLM, "visible"},
};

static void test_xlm(void)
{
	/* the shared fixture (test_clam's) first */
	for (int macro = 0; macro < 2; macro++) {
		size_t n;
		uint8_t *f = ole_build_xls(macro, &n);
		struct scan_ole2_info oi;
		CHECK_EQ_INT(scan_ole2_inspect(f, n, W, &oi), 0);
		CHECK_EQ_INT(oi.flags, macro ? SCAN_OLE2_XLM : 0);
		if (macro)
			CHECK_EQ_STR(oi.xlm_sheet, "Macro1");
		free(f);
	}
	for (size_t i = 0; i < sizeof(xlms) / sizeof(xlms[0]); i++) {
		const struct xlm_case *t = &xlms[i];
		uint8_t wb[4096] = {0};
		size_t len = biff(wb, t->filepass, t->dt, t->hs, t->wide);
		struct ole_ent e[] = {
			{"Root Entry", 5, N, N, 1, NULL, 0, 0},
			{"Workbook", 2, N, N, N, wb,
			 t->mini ? (uint32_t)len : 4096, t->mini},
		};
		size_t n;
		uint8_t *f = ole_build(e, 2, &n);
		struct scan_ole2_info oi;
		int rc = scan_ole2_inspect(f, n, W, &oi);
		CHECK_MSG(rc == 0 && oi.flags == t->flags,
			  "%s: rc %d flags %#x want %#x (%s)", t->name, rc,
			  oi.flags, t->flags, oi.problem ? oi.problem : "");
		if (t->flags & SCAN_OLE2_XLM) {
			CHECK_MSG(strcmp(oi.xlm_sheet, "Auto_Open") == 0,
				  "%s: sheet '%s'", t->name, oi.xlm_sheet);
			CHECK_EQ_STR(oi.xlm_state, t->state);
		}
		free(f);
	}
}

/* Version 4 files (4096-byte sectors): the same trees and a workbook in
 * the mini stream are read the same way. */
static void test_4096(void)
{
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		const struct want *t = &trees[i];
		size_t n;
		uint8_t *f = ole_build_ssz(t->e, t->ne, 12, &n);
		struct scan_ole2_info oi;
		int rc = scan_ole2_inspect(f, n, W, &oi);
		CHECK_MSG(rc == 0 && oi.flags == t->flags &&
			  strcmp(oi.vba_path, t->vba_path) == 0 &&
			  oi.entries == t->entries,
			  "%s: rc %d flags %#x path '%s' entries %u (%s)",
			  t->name, rc, oi.flags, oi.vba_path, oi.entries,
			  oi.problem ? oi.problem : "");
		CHECK_EQ_INT(oi.sector_size, 4096);
		free(f);
	}
	uint8_t wb[4096] = {0};
	size_t len = biff(wb, 0, 1, 0, 0);
	for (int mini = 0; mini < 2; mini++) {
		struct ole_ent e[] = {
			{"Root Entry", 5, N, N, 1, NULL, 0, 0},
			{"Workbook", 2, N, N, N, wb,
			 mini ? (uint32_t)len : 4096, mini},
		};
		size_t n;
		uint8_t *f = ole_build_ssz(e, 2, 12, &n);
		struct scan_ole2_info oi;
		CHECK_EQ_INT(scan_ole2_inspect(f, n, W, &oi), 0);
		CHECK_MSG(oi.flags == SCAN_OLE2_XLM, "mini %d: flags %#x (%s)",
			  mini, oi.flags, oi.problem ? oi.problem : "");
		free(f);
	}
}

/* Word's FIB: wIdent 0xA5EC, fEncrypted is bit 8 of the flags at 0x0A. */
static void test_word_encrypted(void)
{
	for (int enc = 0; enc < 2; enc++) {
		uint8_t wd[4096] = {0};
		ole_put16(wd, 0xa5ec);
		ole_put16(wd + 10, enc ? 0x0100 : 0x0200);
		struct ole_ent e[] = {
			{"Root Entry", 5, N, N, 1, NULL, 0, 0},
			{"WordDocument", 2, N, N, N, wd, 4096, 0},
		};
		size_t n;
		uint8_t *f = ole_build(e, 2, &n);
		struct scan_ole2_info oi;
		CHECK_EQ_INT(scan_ole2_inspect(f, n, W, &oi), 0);
		CHECK_EQ_INT(oi.flags, enc ? SCAN_OLE2_ENCRYPTED : 0);
		if (enc)
			CHECK(oi.encryption != NULL &&
			      strstr(oi.encryption, "fEncrypted") != NULL);
		free(f);
	}
}

/* Not OLE2, or a header nothing can be read from: -EINVAL, a reason. */
static void test_rejects(void)
{
	size_t n;
	uint8_t *f = ole_build(ENTS(word97), &n);
	struct scan_ole2_info oi;
	CHECK_EQ_INT(scan_ole2_inspect((const uint8_t *)"PK\3\4", 4, W, &oi),
		     -EINVAL);
	CHECK(oi.problem != NULL);
	CHECK_EQ_INT(scan_ole2_inspect(NULL, 0, W, &oi), -EINVAL);
	CHECK_EQ_INT(scan_ole2_inspect(f, 511, W, &oi), -EINVAL);
	uint8_t *g = malloc(n);
	memcpy(g, f, n);
	ole_put16(g + 30, 10); /* 1024-byte sectors */
	CHECK_EQ_INT(scan_ole2_inspect(g, n, W, &oi), -EINVAL);
	memcpy(g, f, n);
	ole_put32(g + 76, 0xffffffffu); /* no FAT */
	CHECK_EQ_INT(scan_ole2_inspect(g, n, W, &oi), -EINVAL);
	memcpy(g, f, n);
	ole_put32(g + 48, 500); /* directory past the end */
	CHECK_EQ_INT(scan_ole2_inspect(g, n, W, &oi), -EINVAL);
	memcpy(g, f, n);
	g[1024 + 66] = 1; /* entry 0 is not the root */
	CHECK_EQ_INT(scan_ole2_inspect(g, n, W, &oi), -EINVAL);
	free(g);
	free(f);
}

/* Loops: a sibling pointing back, a child that is its own ancestor, the
 * directory chain and the DIFAT chain pointing at themselves, absurd
 * counts. Each ends the walk with a reason; what was found before the
 * damage still counts. */
static void test_loops(void)
{
	size_t n;
	uint8_t *f = ole_build(ENTS(word97), &n);
	uint8_t *g = malloc(n);
	struct scan_ole2_info oi;
	uint8_t *dir;

	memcpy(g, f, n);
	dir = g + 1024;
	ole_put32(dir + 128 * 6 + 72, 4); /* _VBA_PROJECT right -> dir */
	CHECK_EQ_INT(scan_ole2_inspect(g, n, W, &oi), 0);
	CHECK(oi.flags & SCAN_OLE2_PARTIAL);
	CHECK(oi.flags & SCAN_OLE2_VBA);
	CHECK_EQ_STR(oi.problem, "directory tree loops");

	memcpy(g, f, n);
	dir = g + 1024;
	ole_put32(dir + 128 * 4 + 76, 2); /* give stream "dir" a child */
	dir[128 * 4 + 66] = 1;            /* ... as a storage: -> Macros */
	CHECK_EQ_INT(scan_ole2_inspect(g, n, W, &oi), 0);
	CHECK(oi.flags & SCAN_OLE2_PARTIAL);

	memcpy(g, f, n);
	ole_put32(g + 1024 + 76, 0); /* root's child is the root */
	CHECK_EQ_INT(scan_ole2_inspect(g, n, W, &oi), 0);
	CHECK_EQ_INT(oi.flags, SCAN_OLE2_PARTIAL);
	CHECK_EQ_INT(oi.entries, 1);

	memcpy(g, f, n);
	ole_put32(g + 1024 + 76, 7000); /* child out of range */
	CHECK_EQ_INT(scan_ole2_inspect(g, n, W, &oi), 0);
	CHECK_EQ_STR(oi.problem, "directory entry number out of range");

	memcpy(g, f, n);
	ole_put32(g + 512 + 4 * 1, 1); /* directory sector chains to itself */
	CHECK_EQ_INT(scan_ole2_inspect(g, n, W, &oi), 0);
	CHECK_EQ_STR(oi.problem, "directory chain loops");
	CHECK(oi.flags & SCAN_OLE2_VBA); /* the entries are all there */

	memcpy(g, f, n);
	ole_put32(g + 44, 0xffffffffu); /* FAT sector count */
	ole_put32(g + 68, 2);           /* DIFAT chain: sector 2 ... */
	ole_put32(g + 72, 0xffffffffu);
	for (int i = 1; i < 109; i++)
		ole_put32(g + 76 + 4 * i, 2); /* ... and every DIFAT slot */
	memset(g + 512 * 3, 0, 512);
	ole_put32(g + 512 * 3 + 508, 2); /* ... which points at itself */
	CHECK_EQ_INT(scan_ole2_inspect(g, n, W, &oi), 0);
	CHECK(oi.flags & SCAN_OLE2_PARTIAL);

	free(g);
	free(f);
}

/* Every 7th truncation and 20000 random byte edits of each fixture
 * (three with 512-byte sectors, one with 4096): never a
 * crash or a read outside the buffer (ASan checks), each call fast. */
static void test_damage(void)
{
	uint8_t wb[4096] = {0};
	size_t wl = biff(wb, 0, 1, 2, 1);
	struct ole_ent xl[] = {
		{"Root Entry", 5, N, N, 1, NULL, 0, 0},
		{"Workbook", 2, N, 2, N, wb, (uint32_t)wl, 1},
		{"_VBA_PROJECT_CUR", 1, N, N, 3, NULL, 0, 0},
		{"VBA", 1, N, N, 4, NULL, 0, 0},
		{"dir", 2, N, N, N, wb, 300, 1},
	};
	struct {
		const struct ole_ent *e;
		unsigned ne, shift;
	} fx[] = {{ENTS(word97), 9}, {ENTS(excel), 9}, {ENTS(xl), 9},
		  {ENTS(xl), 12}};
	unsigned calls = 0, partial = 0;
	uint64_t worst_ns = 0;
	for (size_t k = 0; k < sizeof(fx) / sizeof(fx[0]); k++) {
		size_t n;
		uint8_t *f = ole_build_ssz(fx[k].e, fx[k].ne, fx[k].shift, &n);
		struct scan_ole2_info oi;
		for (size_t cut = 0; cut <= n; cut += 7) {
			uint8_t *g = malloc(cut ? cut : 1);
			memcpy(g, f, cut);
			(void)scan_ole2_inspect(g, cut, W, &oi);
			calls++;
			free(g);
		}
		uint8_t *g = malloc(n);
		for (int r = 0; r < 20000; r++) {
			memcpy(g, f, n);
			int edits = 1 + (int)(rnd() % 8);
			for (int j = 0; j < edits; j++) {
				size_t at = rnd() % n;
				/* bias towards the header, FAT and directory */
				if (rnd() & 1)
					at %= (size_t)4 << fx[k].shift;
				g[at] = (uint8_t)(rnd() & 1 ? rnd() : 0xff);
			}
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			int rc = scan_ole2_inspect(g, n, W, &oi);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			uint64_t ns = (uint64_t)(t1.tv_sec - t0.tv_sec) *
					      1000000000u +
				      (uint64_t)t1.tv_nsec -
				      (uint64_t)t0.tv_nsec;
			if (ns > worst_ns)
				worst_ns = ns;
			CHECK(rc == 0 || rc == -EINVAL);
			CHECK(rc == 0 || oi.problem != NULL);
			partial += rc == 0 && (oi.flags & SCAN_OLE2_PARTIAL);
			calls++;
		}
		free(g);
		free(f);
	}
	printf("  %u damaged files inspected, %u stopped early with a "
	       "reason, slowest %.3f ms\n", calls, partial,
	       (double)worst_ns / 1e6);
	CHECK(partial > 0);
	CHECK(worst_ns < 200000000u); /* 200 ms even under ASan */
}

/* A hostile 8 MiB file: every stream in the mini stream (cutoff
 * 0xffffffff), the root's chain through every sector, a 64 KiB
 * "Workbook": the step budget bounds the work. */
static void test_budget(void)
{
	size_t n = 8u << 20;
	uint8_t *g = calloc(1, n);
	size_t fn;
	uint8_t *f = ole_build(ENTS(excel), &fn);
	memcpy(g, f, fn);
	free(f);
	uint32_t nsec = (uint32_t)(n / 512 - 1);
	uint32_t nfat = (nsec + 127) / 128;
	/* FAT sectors at the end of the file; DIFAT chain for those past
	 * the header's 109 */
	uint32_t fat0 = nsec - nfat;
	ole_put32(g + 44, nfat);
	for (uint32_t i = 0; i < 109; i++)
		ole_put32(g + 76 + 4 * i, fat0 + i);
	uint32_t dif = 100; /* DIFAT sectors from 100 */
	ole_put32(g + 68, dif);
	ole_put32(g + 72, (nfat - 109 + 126) / 127);
	for (uint32_t i = 109, s = dif; i < nfat; s++) {
		uint8_t *p = g + 512 * ((size_t)s + 1);
		for (uint32_t j = 0; j < 127; j++)
			ole_put32(p + 4 * j, i < nfat ? fat0 + i++ : 0xffffffffu);
		ole_put32(p + 508, i < nfat ? s + 1 : 0xfffffffeu);
	}
	/* FAT: the directory is sectors 1-2; from 200 every sector
	 * chains to the next and the last back to 200 */
	for (uint32_t s = 0; s < nsec; s++) {
		uint32_t v = s == 1 ? 2
			     : s >= 200 && s + 1 < fat0 ? s + 1
			     : s + 1 == fat0 ? 200 : 0xfffffffeu;
		uint8_t *p = g + 512 * ((size_t)fat0 + s / 128 + 1);
		ole_put32(p + 4 * (s % 128), v);
	}
	ole_put32(g + 56, 0xffffffffu); /* mini cutoff: everything mini */
	ole_put32(g + 60, 200);         /* mini FAT chain from 200 */
	uint8_t *dir = g + 1024;
	ole_put32(dir + 116, 200);       /* root stream from 200 */
	ole_put32(dir + 120, 0xfffffff0u);
	ole_put32(dir + 128 + 116, 0);   /* Workbook mini sector 0 */
	ole_put32(dir + 128 + 120, 1u << 20);
	/* mini FAT entry 0 (and the first mini sector): a far mini sector,
	 * so each step walks the looping chains a long way */
	ole_put32(g + 512 * 201, 0x00ffffffu);
	struct scan_ole2_info oi;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = scan_ole2_inspect(g, n, W, &oi);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("  8 MiB hostile file: rc %d, flags %#x, %s, %.1f ms\n", rc,
	       oi.flags, oi.problem ? oi.problem : "no problem", ms);
	CHECK_EQ_INT(rc, 0);
	CHECK(oi.flags & SCAN_OLE2_VBA);
	CHECK_EQ_STR(oi.problem, "too many sector-chain steps");
	CHECK(ms < 2000.0);
	free(g);
}

int main(void)
{
	W = malloc(sizeof(*W));
	if (W == NULL)
		return 1;
	RUN(test_trees);
	RUN(test_xlm);
	RUN(test_4096);
	RUN(test_word_encrypted);
	RUN(test_rejects);
	RUN(test_loops);
	RUN(test_damage);
	RUN(test_budget);
	free(W);
	return CHECK_DONE();
}
