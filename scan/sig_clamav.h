/*
 * scan/sig_clamav.h - ClamAV signature lines: .ndb body signatures
 * translated to Hyperscan expressions, .hdb/.hsb hash signatures parsed.
 * Private to scan/rules.c (and its tests and fuzz target).
 *
 * Pure functions over one line: no allocation, no I/O, no global state;
 * thread-safe. Every pointer argument is borrowed. Reasons (`*why`) are
 * static strings.
 *
 * Body signature translation (HexSignature -> expression, bytes as \xHH,
 * compiled with HS_FLAG_DOTALL so '.' is any byte):
 *   aa        \xaa              ??       .  (runs: .{k})
 *   a?        [\xa0-\xaf]       ?a       class of the 16 bytes x with x&15==a
 *   *         .*                {n}      .{n}
 *   {-n}      .{0,n}            {n-}     .{n,}
 *   {n-m}     .{n,m}            [n-m]    .{n,m}
 *   (aa|bb)   [\xaa\xbb]  (single positions, may use ?? and nibbles)
 *   (aabb|cc) (?:\xaa\xbb|\xcc) (mixed / multi-byte alternatives)
 *   !(aa|b?)  class of every byte not in the alternatives
 * Rejected (-ENOTSUP, "valid ClamAV, not expressible here"): (B) (L) (W)
 * boundaries, multi-byte negated alternations !(aabb|..).
 * Rejected (-EINVAL): odd or non-hex digits, empty/unclosed groups, bad
 * ranges (n > m), a gap at the start or end, no fixed byte at all.
 *
 * Offsets: '*', 'n', 'n,m' (start in [n, n+m]), 'EOF-n', 'EOF-n,m' (start
 * in [len-n, len-n+m]; no match when len < n, as ClamAV). EP+n, EP-n, Sx+n,
 * SEx, SL+n, VI and $macro$ offsets are -ENOTSUP.
 *
 * How the offset is enforced (scan_sig_ndb plan fields):
 *   '*'                    SINGLEMATCH, no check.
 *   fixed length L, n[,m] or EOF-n[,m]
 *                          every match reported; the callback checks
 *                          start = end - L against the window: exact.
 *   variable, 0[,m]        HS_FLAG_SOM_LEFTMOST; the callback checks the
 *                          leftmost start: exact (no start lies before 0).
 *   variable, n[,m], n > 0 ^.{n,n+m}(?:body), SINGLEMATCH: exact
 *                          (anchored; compiles slower than the others).
 *   variable, EOF-n[,m]    HS_FLAG_SOM_LEFTMOST; the callback checks the
 *                          leftmost start for each end. Inexact in one
 *                          case: when, for the same end, the leftmost start
 *                          lies before the window and a later start inside
 *                          it (the body's first part occurs twice there);
 *                          the signature is then missed. Known limitation.
 * hs_expr_ext min/max_offset would be exact for fixed lengths too, but
 * measured 5-10x slower to compile (16 ms per signature), so it is unused.
 */
#ifndef SLUICE_SCAN_SIG_CLAMAV_H
#define SLUICE_SCAN_SIG_CLAMAV_H

#include <stddef.h>
#include <stdint.h>

#define SCAN_SIG_UNBOUNDED UINT32_MAX /* body length without upper bound */
#define SCAN_SIG_MAX_OFFSET 0xffffffffu /* offsets and shifts (as ClamAV) */
#define SCAN_SIG_SIZE_ANY UINT64_MAX    /* hash signature with size '*' */

enum scan_sig_off {
	SCAN_SIG_OFF_ANY,
	SCAN_SIG_OFF_ABS, /* start in [off, off+shift] */
	SCAN_SIG_OFF_EOF, /* start in [len-off, len-off+shift] */
};

/* What the match callback has to check for a body signature. */
enum scan_sig_check {
	SCAN_SIG_CHECK_NONE,  /* Hyperscan enforces everything */
	SCAN_SIG_CHECK_FIXED, /* start = end - min_len within the window */
	SCAN_SIG_CHECK_SOM,   /* start = leftmost SOM within the window */
};

struct scan_sig_ndb {
	const char *name; /* into the line, not NUL-terminated */
	size_t name_len;
	unsigned target;  /* ClamAV target type 0..14 (0 = any file) */
	enum scan_sig_off off_kind;
	uint64_t off, shift;
	uint32_t min_len, max_len; /* body length; max may be UNBOUNDED */
	unsigned min_flevel, max_flevel; /* 0 when absent; not enforced */
	/* plan: how to compile and check (see above) */
	unsigned hs_flags;          /* HS_FLAG_* */
	enum scan_sig_check check;
};

enum scan_sig_hash_type { SCAN_SIG_MD5, SCAN_SIG_SHA1, SCAN_SIG_SHA256 };

struct scan_sig_hash {
	enum scan_sig_hash_type type; /* by digest length: 32/40/64 hex */
	uint8_t digest[32];           /* first 16/20/32 bytes used */
	uint64_t size;                /* leaf size, or SCAN_SIG_SIZE_ANY */
	const char *name;             /* into the line, not NUL-terminated */
	size_t name_len;
};

/* An output size that is always enough for a hex signature of hexlen
 * characters (plus the anchoring prefix). */
size_t scan_sig_expr_bound(size_t hexlen);

/* Translate a HexSignature (hex[0..len), no NUL needed) into a NUL-
 * terminated Hyperscan expression in out[0..outsz) and its body length
 * range. Returns 0; -EINVAL malformed; -ENOTSUP valid ClamAV syntax that
 * we cannot express; -ENOSPC out too small. On error *why says why. */
int scan_sig_hex_translate(const char *hex, size_t len, char *out,
			   size_t outsz, uint32_t *min_len, uint32_t *max_len,
			   const char **why);

/* Parse one .ndb line (line[0..len), no CR/LF, not a comment) into *sig
 * and the final expression (offset folded in, see above) in out[0..outsz).
 * Returns 0, -EINVAL, -ENOTSUP or -ENOSPC as above, *why set on error. */
int scan_sig_ndb_parse(const char *line, size_t len, struct scan_sig_ndb *sig,
		       char *out, size_t outsz, const char **why);

/* Parse one .hdb/.hsb line "hash:size:name[:flevel]" (size may be '*').
 * Returns 0 or -EINVAL with *why set. */
int scan_sig_hash_parse(const char *line, size_t len,
			struct scan_sig_hash *sig, const char **why);

#endif
