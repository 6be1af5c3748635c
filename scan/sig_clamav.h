/*
 * scan/sig_clamav.h - ClamAV signature lines: .ndb body signatures and
 * .ldb subsignatures translated to Hyperscan expressions, .ldb logical
 * expressions compiled and evaluated (see the .ldb section below),
 * .hdb/.hsb (and .fp/.sfp) hash lines parsed. Private to scan/rules.c and
 * scan/hsdb.c (and their tests and fuzz targets).
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
 *
 * Target type (field 2; 0 any file): 1 PE (and MS-DOS "MZ" files), 2
 * OLE2, 5 graphics, 6 ELF, 9 Mach-O, 10 PDF, 11 Flash, 12 Java class are
 * parsed into sig->target and enforced by scan/hsdb.c: a hit counts only
 * over a leaf's own bytes whose true type maps to the target
 * (scan_sig_target_of_ftype), never in text views or headers. 3 HTML, 4
 * mail and 7 text are -ENOTSUP (libclamav matches them on its normalised
 * HTML, the mail file and its normalised text, which we do not
 * reproduce), as are 8 (unused) and 13/14 (internal types); above 14
 * -ENOTSUP. The target is checked after the rest of the line, so a
 * malformed line is -EINVAL whatever its target.
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
	unsigned target;  /* ClamAV target type (0 = any file); see above */
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

/* ---- .ldb logical signatures ------------------------------------------
 *
 * Name;TargetDescriptionBlock;LogicalExpression;Subsig0;Subsig1;...
 *
 * TargetDescriptionBlock: comma-separated Key:Value. Engine:a-b is read
 * and not enforced (no functionality levels here); Target:n (0 any, 1 PE,
 * 2 OLE2, 5 graphics, 6 ELF, 9 Mach-O, 10 PDF, 11 Flash, 12 Java class;
 * 3 HTML, 4 mail and 7 text are matched by ClamAV on normalised bytes and
 * 13/14 on internal types: -ENOTSUP); FileSize:a-b or FileSize:n. Every
 * other key (EntryPoint, NumberOfSections, Container, Intermediates,
 * IconGroup1/2, HandlerType) is -ENOTSUP. No Target: any file.
 *
 * LogicalExpression, as libclamav evaluates it (cli_ac_chklsig):
 *   expr  := unary [ ('&' | '|') expr ]     (right to left, no precedence:
 *                                            a|b&c is a|(b&c))
 *   unary := N [mod] | '(' expr ')' [mod]
 *   mod   := ('=' | '<' | '>') X [',' Y]
 * On a subsignature N, mod compares its match count with X (Y is
 * ignored, as libclamav does); on a parenthesised block, the sum of the
 * counts of the subsignatures that made the block true with X, and Y is
 * the least number of distinct subsignatures among them. A subsignature
 * with mod is true when the comparison holds (so "0<1" is true with no
 * match). At most SCAN_SIG_LDB_MAX_SUBSIGS subsignatures and
 * SCAN_SIG_LEXPR_MAX_NODES nodes; every N must name a subsignature.
 *
 * Subsignatures:
 *   [Offset:]HexSignature[::Modifiers]   body signature as in .ndb (same
 *       translation, offsets and plan); modifiers i (ASCII case-
 *       insensitive: HS_FLAG_CASELESS), w (wide: a 0x00 after every byte;
 *       plain bytes only, -ENOTSUP with gaps, ?? or alternations), a
 *       (with w: ASCII or wide), f (whole word: on each side a byte not
 *       in [A-Za-z0-9] or the file's start/end, as libclamav; offset '*'
 *       only, else -ENOTSUP).
 *   [Offset:]Trigger/Regex/[Flags]       PCRE subsignature: Regex as
 *       Hyperscan reads it (Hyperscan rejects what it cannot do when the
 *       database is built); Trigger is a logical expression over the other
 *       subsignatures that must hold for the regex's matches to count;
 *       flags i s m x A (HS_FLAG_CASELESS, DOTALL, MULTILINE, (?x), ^),
 *       g (every match counts: no SINGLEMATCH, as under a count
 *       modifier), r and U ignored (no effect on whether a match
 *       exists), e ignored at offset '*' and -ENOTSUP with another, E
 *       -ENOTSUP, others -EINVAL. Offset '*', or n[,m]: the match
 *       starts in [n, n+m], as libclamav ("^[\x00-\xff]{n,n+m}(?:re)";
 *       A with a shift -ENOTSUP); EP, section, EOF-n offsets -ENOTSUP.
 *       The bypass trigger -ENOTSUP.
 *   Byte-compare, macro ($n$), fuzzy-image and other forms: -ENOTSUP.
 * Counting: a body subsignature used under a count modifier anywhere in
 * the expression is compiled without HS_FLAG_SINGLEMATCH and each match
 * Hyperscan reports (one per end offset) counts once: the same as
 * libclamav for fixed-length bodies; bodies of variable length may count
 * differently. */

#define SCAN_SIG_LDB_MAX_SUBSIGS 64
#define SCAN_SIG_LEXPR_MAX_NODES 192

enum scan_sig_lkind {
	SCAN_SIG_LN_SUB,   /* subsignature `sub`, optional mod */
	SCAN_SIG_LN_AND,   /* a & b */
	SCAN_SIG_LN_OR,    /* a | b */
	SCAN_SIG_LN_BLOCK, /* (a) with mod */
};

struct scan_sig_lnode {
	uint8_t kind;    /* enum scan_sig_lkind */
	uint8_t mod;     /* 0, '=', '<' or '>' */
	uint8_t sub;     /* SUB: subsignature index */
	uint16_t a, b;   /* children (node indexes) */
	uint32_t x, y;   /* mod values; y 0: none */
};

/* A compiled logical expression: nodes[root] is the top. */
struct scan_sig_lexpr {
	struct scan_sig_lnode nodes[SCAN_SIG_LEXPR_MAX_NODES];
	unsigned nnodes, root;
	uint64_t used;   /* bit n: subsignature n appears */
	uint64_t counted;/* bit n: appears under a count modifier */
	int has_mod;     /* any modifier at all */
};

/* Compile expression s[0..len) over nsub subsignatures. 0, or -EINVAL
 * with *why (syntax, an index >= nsub, too deep or too many nodes). */
int scan_sig_lexpr_compile(const char *s, size_t len, unsigned nsub,
			   struct scan_sig_lexpr *x, const char **why);

/* Evaluate x over per-subsignature match counts (counts[n] for every n
 * the expression uses). 1 true, 0 false. Recursion depth is bounded by
 * the node count; no allocation. */
int scan_sig_lexpr_eval(const struct scan_sig_lexpr *x,
			const uint32_t *counts);

/* The same over a node array (nodes[0..n), root r): for compiled
 * expressions stored elsewhere (scan/hsdb.c). */
int scan_sig_lnodes_eval(const struct scan_sig_lnode *nodes, unsigned n,
			 unsigned root, const uint32_t *counts);

struct scan_sig_ldb {
	const char *name;    /* into the line, not NUL-terminated */
	size_t name_len;
	unsigned target;     /* ClamAV target type; 0 any */
	uint64_t size_min, size_max; /* FileSize; 0 / UINT64_MAX: any */
	unsigned eng_min, eng_max;   /* Engine range; 0: absent; unused */
	const char *expr;    /* the logical expression, into the line */
	size_t expr_len;
	unsigned nsub;
	const char *sub[SCAN_SIG_LDB_MAX_SUBSIGS]; /* into the line */
	size_t sub_len[SCAN_SIG_LDB_MAX_SUBSIGS];
	uint64_t counted;    /* bit n: subsignature n is under a count
				modifier in the expression or in a PCRE
				trigger (pass it to scan_sig_ldb_sub_parse) */
	struct scan_sig_lexpr lexpr;
};

/* Parse one .ldb line (no CR/LF, not a comment): name, target block,
 * expression (compiled) and the subsignature texts (each to be parsed
 * with scan_sig_ldb_sub_parse). 0, -EINVAL (malformed) or -ENOTSUP
 * (valid ClamAV we cannot honour), *why set on error. */
int scan_sig_ldb_parse(const char *line, size_t len, struct scan_sig_ldb *sig,
		       const char **why);

/* One subsignature, compiled like a body signature. */
struct scan_sig_sub {
	enum scan_sig_off off_kind;
	uint64_t off, shift;
	uint32_t min_len, max_len;
	unsigned hs_flags;
	enum scan_sig_check check;
	int pcre;              /* a PCRE subsignature */
	const char *trigger;   /* PCRE: its trigger expression (into s) */
	size_t trigger_len;
};

/* Parse subsignature k (s[0..len)) of sig into *sub and its expression
 * out[0..outsz) (scan_sig_expr_bound(2 * len) is enough). counted: the
 * subsignature is under a count modifier (all matches reported). A PCRE
 * trigger is compiled against sig->nsub and must not name k itself.
 * 0, -EINVAL, -ENOTSUP or -ENOSPC, *why set on error. */
int scan_sig_ldb_sub_parse(const struct scan_sig_ldb *sig, unsigned k,
			   int counted, struct scan_sig_sub *sub, char *out,
			   size_t outsz, const char **why);

/* ClamAV target type (0..14) of a true file type (scan/filetype.h enum
 * scan_ftype value): 1 PE and MS-DOS "MZ" files (libclamav's MSEXE
 * type), 2 OLE2, 3 HTML, 5 graphics, 6 ELF, 7 text,
 * 9 Mach-O, 10 PDF, 11 Flash, 12 Java class; 0 for everything else. */
unsigned scan_sig_target_of_ftype(int ftype);

#endif
