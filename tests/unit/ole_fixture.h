/*
 * tests/unit/ole_fixture.h - a macro document for tests: an OLE2 workbook
 * built in memory (no binary fixture), used by test_clam and
 * test_scan_clam; and ole_build(), any directory tree with stream
 * contents (VBA projects, encrypted packages, workbooks in the mini
 * stream), used by test_ole2 and test_scan_macro. Header-only; the
 * caller frees the result.
 */
#ifndef SLUICE_TESTS_OLE_FIXTURE_H
#define SLUICE_TESTS_OLE_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A minimal OLE2 compound file (version 3, 512-byte sectors, no mini
 * stream) holding one stream "Workbook": a BIFF8 BOF, a BOUNDSHEET whose
 * sheet type is 1 (an Excel 4.0 macro sheet), EOF, zero padding to 4096
 * bytes. Layout: header, sector 0 FAT, sector 1 directory, sectors 2-9
 * the stream. macro = 0 writes sheet type 0 (a worksheet). */
static inline void ole_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void ole_put32(uint8_t *p, uint32_t v)
{
	ole_put16(p, (uint16_t)v);
	ole_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void ole_dirent(uint8_t *d, const char *name, uint8_t type,
		       uint32_t child, uint32_t start, uint32_t size)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < n; i++)
		ole_put16(d + 2 * i, (uint8_t)name[i]);
	ole_put16(d + 64, (uint16_t)(2 * n + 2));
	d[66] = type;
	d[67] = 1; /* black */
	ole_put32(d + 68, 0xffffffffu);
	ole_put32(d + 72, 0xffffffffu);
	ole_put32(d + 76, child);
	ole_put32(d + 116, start);
	ole_put32(d + 120, size);
}

static inline uint8_t *ole_build_xls(int macro, size_t *outn)
{
	const size_t n = 512 * 11;
	uint8_t *f = calloc(1, n);
	if (f == NULL)
		abort();
	static const uint8_t magic[8] = {0xd0, 0xcf, 0x11, 0xe0,
					 0xa1, 0xb1, 0x1a, 0xe1};
	memcpy(f, magic, 8);
	ole_put16(f + 24, 0x003e);
	ole_put16(f + 26, 0x0003);
	ole_put16(f + 28, 0xfffe);
	ole_put16(f + 30, 9);
	ole_put16(f + 32, 6);
	ole_put32(f + 44, 1);           /* FAT sectors */
	ole_put32(f + 48, 1);           /* first directory sector */
	ole_put32(f + 56, 4096);        /* mini stream cutoff */
	ole_put32(f + 60, 0xfffffffeu); /* no mini FAT */
	ole_put32(f + 68, 0xfffffffeu); /* no DIFAT sectors */
	ole_put32(f + 76, 0);           /* DIFAT[0]: the FAT is sector 0 */
	for (int i = 1; i < 109; i++)
		ole_put32(f + 76 + 4 * i, 0xffffffffu);
	uint8_t *fat = f + 512;
	for (int i = 0; i < 128; i++)
		ole_put32(fat + 4 * i, 0xffffffffu);
	ole_put32(fat, 0xfffffffdu);     /* sector 0: FAT */
	ole_put32(fat + 4, 0xfffffffeu); /* sector 1: directory, end */
	for (uint32_t s = 2; s < 9; s++)
		ole_put32(fat + 4 * s, s + 1);
	ole_put32(fat + 4 * 9, 0xfffffffeu);
	uint8_t *dir = f + 1024;
	ole_dirent(dir, "Root Entry", 5, 1, 0xfffffffeu, 0);
	ole_dirent(dir + 128, "Workbook", 2, 0xffffffffu, 2, 4096);
	for (int i = 2; i < 4; i++) {
		ole_put32(dir + 128 * i + 68, 0xffffffffu);
		ole_put32(dir + 128 * i + 72, 0xffffffffu);
		ole_put32(dir + 128 * i + 76, 0xffffffffu);
	}
	uint8_t *w = f + 1536;
	static const uint8_t bof[] = {0x09, 0x08, 0x10, 0x00, 0x00, 0x06,
				      0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
				      0, 0, 0, 0};
	memcpy(w, bof, sizeof(bof));
	w += sizeof(bof);
	/* BOUNDSHEET: lbPlyPos, hsState, dt, cch, flags, "Macro1" */
	static const uint8_t bs[] = {0x85, 0x00, 0x0e, 0x00, 0, 0, 0, 0, 0,
				     0x01, 0x06, 0x00, 'M', 'a', 'c', 'r',
				     'o', '1'};
	memcpy(w, bs, sizeof(bs));
	if (!macro)
		w[9] = 0x00;
	w += sizeof(bs);
	static const uint8_t eof[] = {0x0a, 0x00, 0x00, 0x00};
	memcpy(w, eof, sizeof(eof));
	*outn = n;
	return f;
}

/* One directory entry for ole_build(): entries are written in array
 * order (entry 0 is the root, type 5); left/right/child are entry
 * numbers or OLE_NONE. A stream with data gets its own regular sectors,
 * or mini sectors when mini is set (the root's stream then holds the
 * mini stream, the header names the mini FAT). */
#define OLE_NONE 0xffffffffu
struct ole_ent {
	const char *name;
	uint8_t type; /* 1 storage, 2 stream, 5 root */
	uint32_t left, right, child;
	const uint8_t *data;
	uint32_t size;
	int mini;
};

/* Sectors of 1 << shift bytes (9: 512, version 3; 12: 4096, version 4):
 * 0 FAT, 1.. directory, streams, mini stream, mini FAT. At most one FAT
 * sector's worth of sectors: aborts beyond. */
static inline uint8_t *ole_build_ssz(const struct ole_ent *e, unsigned ne,
				     unsigned shift, size_t *outn)
{
	const uint32_t ssz = 1u << shift, per = ssz / 4;
	unsigned nd = (ne + ssz / 128 - 1) / (ssz / 128), nsec = 1 + nd;
	uint32_t start[64], msize = 0;
	if (ne > 64)
		abort();
	for (unsigned i = 0; i < ne; i++) {
		start[i] = 0xfffffffeu;
		if (e[i].size == 0)
			continue;
		if (e[i].mini) {
			start[i] = msize / 64;
			msize += (e[i].size + 63) / 64 * 64;
		} else {
			start[i] = nsec;
			nsec += (e[i].size + ssz - 1) / ssz;
		}
	}
	uint32_t mstart = nsec, mfat = 0xfffffffeu;
	if (msize > 0) {
		nsec += (msize + ssz - 1) / ssz;
		mfat = nsec++;
	}
	if (nsec > per || msize / 64 > per)
		abort();
	size_t n = ssz * ((size_t)nsec + 1);
	uint8_t *f = calloc(1, n);
	if (f == NULL)
		abort();
	static const uint8_t magic[8] = {0xd0, 0xcf, 0x11, 0xe0,
					 0xa1, 0xb1, 0x1a, 0xe1};
	memcpy(f, magic, 8);
	ole_put16(f + 24, 0x003e);
	ole_put16(f + 26, shift == 12 ? 4 : 3);
	ole_put16(f + 28, 0xfffe);
	ole_put16(f + 30, (uint16_t)shift);
	ole_put16(f + 32, 6);
	ole_put32(f + 44, 1);
	ole_put32(f + 48, 1);
	ole_put32(f + 56, 4096);
	ole_put32(f + 60, mfat);
	ole_put32(f + 64, msize > 0 ? 1 : 0);
	ole_put32(f + 68, 0xfffffffeu);
	ole_put32(f + 76, 0);
	for (int i = 1; i < 109; i++)
		ole_put32(f + 76 + 4 * i, 0xffffffffu);
	uint8_t *fat = f + ssz;
	for (uint32_t i = 0; i < per; i++)
		ole_put32(fat + 4 * i, 0xffffffffu);
	ole_put32(fat, 0xfffffffdu);
	/* a chain of k sectors from s */
#define OLE_CHAIN(tab, s, k)                                              \
	for (uint32_t c_ = 0; c_ < (k); c_++)                             \
		ole_put32((tab) + 4 * ((s) + c_),                         \
			  c_ + 1 < (k) ? (s) + c_ + 1 : 0xfffffffeu)
	OLE_CHAIN(fat, 1u, nd);
	for (unsigned i = 0; i < ne; i++)
		if (e[i].size > 0 && !e[i].mini)
			OLE_CHAIN(fat, start[i], (e[i].size + ssz - 1) / ssz);
	if (msize > 0) {
		OLE_CHAIN(fat, mstart, (msize + ssz - 1) / ssz);
		ole_put32(fat + 4 * mfat, 0xfffffffeu);
		uint8_t *mf = f + ssz * ((size_t)mfat + 1);
		for (uint32_t i = 0; i < per; i++)
			ole_put32(mf + 4 * i, 0xffffffffu);
		for (unsigned i = 0; i < ne; i++)
			if (e[i].size > 0 && e[i].mini)
				OLE_CHAIN(mf, start[i],
					  (e[i].size + 63) / 64);
	}
#undef OLE_CHAIN
	uint8_t *dir = f + 2 * (size_t)ssz;
	for (unsigned i = 0; i < nd * (ssz / 128); i++) {
		uint8_t *d = dir + 128 * i;
		if (i >= ne) {
			ole_put32(d + 68, 0xffffffffu);
			ole_put32(d + 72, 0xffffffffu);
			ole_put32(d + 76, 0xffffffffu);
			continue;
		}
		uint32_t st = start[i], sz = e[i].size;
		if (i == 0) {
			st = msize > 0 ? mstart : 0xfffffffeu;
			sz = msize;
		}
		ole_dirent(d, e[i].name, e[i].type, e[i].child, st, sz);
		ole_put32(d + 68, e[i].left);
		ole_put32(d + 72, e[i].right);
		if (e[i].size > 0 && e[i].data != NULL) {
			size_t at = e[i].mini
					    ? ssz * ((size_t)mstart + 1) +
						      64 * (size_t)start[i]
					    : ssz * ((size_t)start[i] + 1);
			memcpy(f + at, e[i].data, e[i].size);
		}
	}
	*outn = n;
	return f;
}

/* 512-byte sectors (version 3), the usual case. */
static inline uint8_t *ole_build(const struct ole_ent *e, unsigned ne,
				 size_t *outn)
{
	return ole_build_ssz(e, ne, 9, outn);
}

#endif
