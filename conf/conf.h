/*
 * conf/conf.h - the configuration reader: a YAML file as a small read-only
 * tree whose every node knows the file and line it came from.
 *
 * Used by every sluice program (scan policy, SMTP limits, control plane), so
 * it knows nothing about any of them: it parses, it answers typed questions,
 * and it words errors for an operator as "FILE:LINE: what is wrong; what to
 * do". Each program walks the tree and validates its own sections with the
 * typed getters below.
 *
 * What the reader refuses (each is an error naming file and line):
 *   - YAML syntax errors (libyaml's problem text plus a hint);
 *   - files larger than CONF_MAX_FILE_BYTES, nesting deeper than
 *     CONF_MAX_DEPTH, more than CONF_MAX_NODES nodes;
 *   - anchors and aliases (&a / *a: no billion-laughs expansion), explicit
 *     tags (!!str, !foo), more than one document in a stream;
 *   - map keys that are not scalars, duplicate keys in one map;
 *   - scalars containing a NUL byte.
 * An empty file (or a document holding only a null) loads as an empty map.
 *
 * Errors: int functions return 0 or a negative errno. On failure, if err is
 * not NULL and errsz > 0, err receives one NUL-terminated line (truncated to
 * errsz). Getters stop at the first problem; callers report that one error
 * and exit (configuration errors are fatal at start-up, style.md item 7).
 *
 * Ownership: struct conf_doc owns every node and string; pointers returned
 * by any function below borrow from the doc and live until conf_free().
 *
 * Thread-safety: loading is reentrant; a loaded doc is immutable and may be
 * read from any number of threads.
 */
#ifndef SLUICE_CONF_CONF_H
#define SLUICE_CONF_CONF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_FILE_BYTES (16u << 20) /* 16 MiB */
#define CONF_MAX_DEPTH 64               /* nested maps/sequences */
#define CONF_MAX_NODES 1000000u

struct conf_doc;
struct conf_node;

enum conf_kind {
	CONF_SCALAR,
	CONF_SEQ,
	CONF_MAP,
};

/* Read and parse the file at path. Fills *out (caller frees with
 * conf_free()). Errors: -ENOENT/-EACCES/... when the file cannot be read,
 * -EFBIG when larger than CONF_MAX_FILE_BYTES, -EINVAL for anything the
 * reader refuses (see above), -ENOMEM. Messages name the path as given. */
int conf_load(const char *path, struct conf_doc **out, char *err,
	      size_t errsz);

/* Parse len bytes of buf (need not be NUL-terminated). `name` stands for
 * the file in messages and in conf_doc_path() (NULL means "<string>").
 * Errors as conf_load() minus the I/O ones. */
int conf_load_string(const char *name, const char *buf, size_t len,
		     struct conf_doc **out, char *err, size_t errsz);

/* Free a doc and everything borrowed from it. Accepts NULL. */
void conf_free(struct conf_doc *doc);

/* The root node (never NULL for a loaded doc) and the path or name the doc
 * was loaded from. */
const struct conf_node *conf_root(const struct conf_doc *doc);
const char *conf_doc_path(const struct conf_doc *doc);

/* --- Nodes --------------------------------------------------------------- */

enum conf_kind conf_kind(const struct conf_node *n);
const char *conf_kind_name(enum conf_kind k); /* "scalar" "list" "map" */
const char *conf_file(const struct conf_node *n); /* as conf_doc_path() */
unsigned conf_line(const struct conf_node *n);    /* 1-based */

/* Scalar text (NUL-terminated, no interior NUL), or NULL if not a scalar. */
const char *conf_scalar(const struct conf_node *n);

/* A plain (unquoted) scalar that YAML reads as null: "", "~", "null". */
bool conf_is_null(const struct conf_node *n);

/* Number of entries of a map or items of a sequence; 0 for a scalar. */
size_t conf_len(const struct conf_node *n);

/* Sequence item i (< conf_len), or NULL when n is not a sequence or i is
 * out of range. */
const struct conf_node *conf_seq_at(const struct conf_node *n, size_t i);

/* Map entry i (< conf_len) in file order: key text, key line and value.
 * NULL / 0 when n is not a map or i is out of range. */
const char *conf_map_key(const struct conf_node *n, size_t i);
unsigned conf_map_key_line(const struct conf_node *n, size_t i);
const struct conf_node *conf_map_value(const struct conf_node *n, size_t i);

/* Value stored under key (exact, case-sensitive), or NULL when absent or n
 * is not a map. */
const struct conf_node *conf_map_get(const struct conf_node *n,
				     const char *key);

/* --- Errors -------------------------------------------------------------- */

/* Write "FILE:LINE: <message>" for node n into err and return -EINVAL.
 * n may be NULL (then no location). For callers' semantic checks. */
int conf_error(const struct conf_node *n, char *err, size_t errsz,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* --- Typed getters --------------------------------------------------------
 * Each checks one node and returns 0 with *out set, or -EINVAL with an
 * error naming file:line, what was found and what is expected. `what`
 * names the setting in the message (e.g. "limits.message_size"). */

/* n must be a map. Every key must be in `allowed` (NULL-terminated);
 * an unknown key is reported with its line and, when one allowed key is
 * close, "did you mean 'x'?". */
int conf_check_map(const struct conf_node *n, const char *what,
		   const char *const *allowed, char *err, size_t errsz);

/* Non-empty scalar string (quoted "" is allowed only if allow_empty). */
int conf_get_string(const struct conf_node *n, const char *what,
		    bool allow_empty, const char **out, char *err,
		    size_t errsz);

/* yes/no/true/false/on/off (any case). */
int conf_get_bool(const struct conf_node *n, const char *what, bool *out,
		  char *err, size_t errsz);

/* Decimal integer (optional sign) within [min, max]. */
int conf_get_int(const struct conf_node *n, const char *what, long long min,
		 long long max, long long *out, char *err, size_t errsz);

/* Byte size: a number (decimals allowed with a unit) and an optional unit,
 * space optional: B, KiB/MiB/GiB/TiB (1024-based), KB/MB/GB/TB and K/M/G/T
 * (also 1024-based: a mail size limit is never meant in powers of 10),
 * any case. "20 MiB", "128MiB", "1.5 GiB", "512". Result within
 * [min, max]. */
int conf_get_size(const struct conf_node *n, const char *what, uint64_t min,
		  uint64_t max, uint64_t *out, char *err, size_t errsz);

/* Duration in milliseconds: a number and a unit, space optional:
 * ms, s, m, h, d, w and the words millisecond(s), second(s), sec(s),
 * minute(s), min(s), hour(s), day(s), week(s). "30m", "24h", "10 minutes",
 * "2ms". A bare number is refused (ambiguous unit). Within [min, max]. */
int conf_get_duration(const struct conf_node *n, const char *what,
		      uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms,
		      char *err, size_t errsz);

/* List of strings: a single non-empty scalar or a sequence of non-empty
 * scalars (an empty sequence is allowed). Checks; then use conf_list_len()
 * and conf_list_at() to read it. */
int conf_check_strlist(const struct conf_node *n, const char *what,
		       char *err, size_t errsz);
size_t conf_list_len(const struct conf_node *n); /* scalar: 1 */
const struct conf_node *conf_list_at(const struct conf_node *n, size_t i);

/* The parsers behind conf_get_size/duration, for other callers and tests:
 * 0 or -EINVAL (syntax) / -ERANGE (overflow). */
int conf_parse_size(const char *s, uint64_t *out);
int conf_parse_duration(const char *s, uint64_t *out_ms);

#endif
