/* scan/edit.c - a verdict's edits applied to the scanned message; see
 * edit.h for the contract.
 *
 * How: every STRIP edit is mapped to a part of the top-level MIME tree of
 * the last scan (ctx->holder: an extracted file or a part of an encoded
 * nested message maps to the MIME leaf that carried it; a part of an
 * alternate view maps to the parts of the primary reading that share its
 * bytes) and marked in ctx->edit_mask. The result is then written in one
 * pass over the primary reading of the tree, whose parts are in byte
 * order and nest without overlapping: bytes between marked parts are
 * copied as they are, a marked part is replaced once (its marked
 * descendants add their notices to it), the root's header block gets the
 * subject tag and the added headers. Delimiter lines are never inside a
 * replaced range, so every multipart keeps its boundaries.
 */
#include "scan/edit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/fname.h"
#include "scan/scan_int.h"

_Static_assert(SCAN_MAX_EDITS <= 16, "edit_mask is a uint16_t bit set");

#define FILENAME_MAX_BYTES 160 /* of the original name kept in the notice
				  part's filename (header lines < 998) */
#define QP_LINE 75              /* encoded characters per line, + "=" */
#define EW_CHUNK 45             /* bytes per RFC 2047 encoded word */
#define SUBJECT_LINE_MAX 998    /* RFC 5322 2.1.1 */

int scan_edit_changes_message(const struct scan_verdict *v)
{
	for (unsigned i = 0; i < v->nedits; i++)
		if (v->edits[i].kind != SCAN_EDIT_NOTIFY)
			return 1;
	return 0;
}

/* ---- output ------------------------------------------------------------ */

struct emit {
	struct scan_edit_buf *out;
	int err;
	const uint8_t *msg;
	size_t len;
	size_t pos; /* original bytes before pos are written (or replaced) */
	struct scan_ctx *c;
	const struct scan_verdict *v;
};

/* Room for n more bytes in out (doubling). */
static int reserve(struct emit *e, size_t n)
{
	struct scan_edit_buf *o = e->out;
	if (n <= o->cap - o->len)
		return 0;
	size_t cap = o->cap ? o->cap : 4096;
	while (cap - o->len < n) {
		if (cap > SIZE_MAX / 2)
			return e->err = -ENOMEM;
		cap *= 2;
	}
	uint8_t *nb = realloc(o->buf, cap);
	if (nb == NULL)
		return e->err = -ENOMEM;
	o->buf = nb;
	o->cap = cap;
	return 0;
}

static void put(struct emit *e, const void *p, size_t n)
{
	struct scan_edit_buf *o = e->out;
	if (e->err || n == 0 || reserve(e, n) < 0)
		return;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void puts_(struct emit *e, const char *s)
{
	put(e, s, strlen(s));
}

/* Copy the original bytes up to offset `to`. */
static void copy_to(struct emit *e, size_t to)
{
	if (to > e->pos) {
		put(e, e->msg + e->pos, to - e->pos);
		e->pos = to;
	}
}

/* Offset of a pointer into the message. An empty message is parsed from
 * a static byte of mime.c, not from msg: everything is at 0 then. */
static size_t off(const struct emit *e, const void *p)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)e->msg;
	if (e->len == 0 || a < b || a - b > e->len)
		return a < b || e->len == 0 ? 0 : e->len;
	return (size_t)(a - b);
}

static size_t part_start(const struct emit *e, const struct mime_part *p)
{
	return off(e, p->header_raw);
}

static size_t part_end(const struct emit *e, const struct mime_part *p)
{
	return off(e, p->body) + p->body_len;
}

/* ---- text encodings ------------------------------------------------------ */

static int is_ascii_text(const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch >= 0x7f || (ch < 0x20 && ch != '\t'))
			return 0;
	}
	return 1;
}

/* UTF-8 text as RFC 2047 encoded words (B encoding), split at character
 * boundaries and folded onto continuation lines. */
static void put_encoded_words(struct emit *e, const char *s)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), i = 0;
	while (i < n) {
		size_t k = n - i > EW_CHUNK ? EW_CHUNK : n - i;
		/* Back up to a character start (not a continuation byte). */
		while (k > 1 && i + k < n &&
		       ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k--;
		if (i > 0)
			puts_(e, "\r\n ");
		puts_(e, "=?utf-8?B?");
		const unsigned char *q = (const unsigned char *)s + i;
		for (size_t j = 0; j < k; j += 3) {
			unsigned v = (unsigned)q[j] << 16;
			if (j + 1 < k)
				v |= (unsigned)q[j + 1] << 8;
			if (j + 2 < k)
				v |= q[j + 2];
			char o[4] = {b64[v >> 18], b64[(v >> 12) & 63],
				     j + 1 < k ? b64[(v >> 6) & 63] : '=',
				     j + 2 < k ? b64[v & 63] : '='};
			put(e, o, 4);
		}
		puts_(e, "?=");
		i += k;
	}
}

/* Header text from the policy (a tag or a header value): as written when
 * it is printable ASCII, else as encoded words. Control characters never
 * reach the output (the policy already replaced those of its variables;
 * this also covers literal text of the configuration). */
static void put_header_text(struct emit *e, const char *s)
{
	char clean[SCAN_TEXT_MAX];
	size_t n = 0;
	for (; *s && n + 1 < sizeof(clean); s++) {
		unsigned char ch = (unsigned char)*s;
		clean[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	clean[n] = '\0';
	if (is_ascii_text(clean))
		put(e, clean, n);
	else
		put_encoded_words(e, clean);
}

/* Notice text as a quoted-printable body: CRLF line ends, lines of at
 * most 76 characters, and no line starts with '-' or '.' (so no line of
 * ours can be read as a multipart delimiter, whatever boundary the
 * sender chose). */
static void put_qp(struct emit *e, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned col = 0;
	for (size_t i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\r' || ch == '\n') {
			if (ch == '\r' && s[i + 1] == '\n')
				i++;
			puts_(e, "\r\n");
			col = 0;
			continue;
		}
		unsigned char nx = (unsigned char)s[i + 1];
		int enc = ch == '=' || ch >= 0x7f || (ch < 0x20 && ch != '\t') ||
			  ((ch == ' ' || ch == '\t') &&
			   (nx == '\0' || nx == '\r' || nx == '\n'));
		if (col + (enc ? 3u : 1u) > QP_LINE) {
			puts_(e, "=\r\n");
			col = 0;
		}
		if (col == 0 && (ch == '-' || ch == '.'))
			enc = 1;
		if (enc) {
			char o[3] = {'=', hex[ch >> 4], hex[ch & 15]};
			put(e, o, 3);
			col += 3;
		} else {
			put(e, &ch, 1);
			col++;
		}
	}
}

/* The notices of the STRIP edits in `mask`, each once, one after the
 * other. */
static void put_notices(struct emit *e, unsigned mask)
{
	const struct scan_verdict *v = e->v;
	int first = 1;
	for (unsigned i = 0; i < v->nedits; i++) {
		if (!(mask & (1u << i)))
			continue;
		int seen = 0;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = (mask & (1u << j)) &&
			       strcmp(v->edits[j].text, v->edits[i].text) == 0;
		if (seen)
			continue;
		if (!first)
			puts_(e, "\r\n\r\n");
		first = 0;
		put_qp(e, v->edits[i].text);
	}
	if (!first)
		puts_(e, "\r\n");
}

/* filename="<name>.removed.txt", or the RFC 2231 form (without bidi
 * controls) when the name is not plain printable ASCII. The name is cut (at a character boundary)
 * so that the line stays far below 998 octets. */
static void put_removed_filename(struct emit *e, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(name);
	if (n > FILENAME_MAX_BYTES) {
		n = FILENAME_MAX_BYTES;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	int plain = 1;
	for (size_t i = 0; i < n && plain; i++) {
		unsigned char ch = (unsigned char)name[i];
		plain = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
	}
	/* The original's dots become '_': "setup.exe" -> "setup_exe.removed
	 * .txt", so the notice has none of the extensions that had it
	 * removed (the attachment filter checks every one). */
	if (plain) {
		puts_(e, ";\r\n filename=\"");
		for (size_t i = 0; i < n; i++)
			put(e, name[i] == '.' ? "_" : &name[i], 1);
		puts_(e, ".removed.txt\"");
		return;
	}
	puts_(e, ";\r\n filename*=utf-8''");
	for (size_t i = 0; i < n; i++) {
		/* bidi controls are dropped: the notice's name reads as it
		 * is (and is no name trick itself) */
		size_t bl = scan_fname_bidi_len(name + i);
		if (bl > 0 && i + bl <= n) {
			i += bl - 1;
			continue;
		}
		unsigned char ch = (unsigned char)(name[i] == '.' ? '_' : name[i]);
		int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || strchr("!#$&+-.^_`|~", ch);
		if (keep && ch != 0) {
			put(e, &ch, 1);
		} else {
			char o[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			put(e, o, 3);
		}
	}
	puts_(e, ".removed.txt");
}

/* The header fields of a notice part. */
static void put_notice_headers(struct emit *e, const struct mime_part *p,
			       int mime_version)
{
	if (mime_version)
		puts_(e, "MIME-Version: 1.0\r\n");
	puts_(e, "Content-Type: text/plain; charset=utf-8\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n"
		 "Content-Disposition: inline");
	if (p->filename != NULL && p->filename[0] != '\0')
		put_removed_filename(e, p->filename);
	puts_(e, "\r\n");
}

/* ---- header blocks --------------------------------------------------- */

struct hdr_edits {
	int top;          /* the message's own header block */
	int drop_content; /* leave out Content-* fields (root being stripped) */
	int tag_first_subject;
	int mime_version; /* has a MIME-Version field */
};

static int name_is(const struct mime_header *h, const char *lit)
{
	size_t n = strlen(lit);
	return h->name_len == n && strncasecmp(h->name, lit, n) == 0;
}

static int name_is_content(const struct mime_header *h)
{
	return h->name_len > 8 && strncasecmp(h->name, "content-", 8) == 0;
}

/* Does the subject already start with the tag? Compared with the decoded
 * Subject the scan kept, else with the raw value. */
static int subject_has_tag(const struct emit *e, const struct mime_header *h,
			   const char *tag)
{
	size_t tl = strlen(tag);
	const char *s = e->c->subject;
	size_t sl;
	if (s != NULL) {
		sl = strlen(s);
	} else {
		s = h->value;
		sl = h->value_len;
		while (sl > 0 && (*s == ' ' || *s == '\t'))
			s++, sl--;
	}
	return tl > 0 && sl >= tl && memcmp(s, tag, tl) == 0;
}

/* The tags to put before the subject: every TAG_SUBJECT text the
 * subject does not already start with, in edit order. h NULL: no
 * Subject field. Writes them separated by spaces; returns how many. */
static unsigned put_tags(struct emit *e, const struct mime_header *h)
{
	const struct scan_verdict *v = e->v;
	unsigned n = 0;
	for (unsigned i = 0; i < v->nedits; i++) {
		const struct scan_edit *ed = &v->edits[i];
		if (ed->kind != SCAN_EDIT_TAG_SUBJECT || ed->text[0] == '\0')
			continue;
		if (h != NULL && subject_has_tag(e, h, ed->text))
			continue;
		if (n++ > 0)
			puts_(e, " ");
		put_header_text(e, ed->text);
	}
	return n;
}

/* RFC 5322 field name: printable ASCII except ':' and space. */
static int field_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] >= 127)
			return 0;
	return 1;
}

/* ADD_HEADER lines, and a Subject with the tags when there is none. */
static void put_inserted(struct emit *e, int has_subject)
{
	const struct scan_verdict *v = e->v;
	for (unsigned i = 0; i < v->nedits; i++) {
		const struct scan_edit *ed = &v->edits[i];
		if (ed->kind != SCAN_EDIT_ADD_HEADER)
			continue;
		const char *colon = strchr(ed->text, ':');
		if (colon == NULL || colon == ed->text ||
		    !field_name_ok(ed->text, (size_t)(colon - ed->text)))
			continue; /* the policy loader refuses these */
		put(e, ed->text, (size_t)(colon - ed->text));
		puts_(e, ":");
		const char *val = colon + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		puts_(e, " ");
		put_header_text(e, val);
		puts_(e, "\r\n");
	}
	if (!has_subject) {
		size_t mark = e->out->len;
		puts_(e, "Subject: ");
		if (put_tags(e, NULL) == 0 && !e->err)
			e->out->len = mark; /* no tag edit: no Subject */
		else
			puts_(e, "\r\n");
	}
}

/* Write the header block of p (from e->pos == its start) with the edits
 * hx asks for (and, with drop_content, the notice part's fields after
 * it); e->pos ends after the block, before the blank line. Lines of the
 * original are copied with their own line ends; lines written here end
 * in CRLF. */
static void put_header_block(struct emit *e, const struct mime_part *p,
			     const struct hdr_edits *hx)
{
	size_t hs = part_start(e, p), he = hs + p->header_raw_len;
	unsigned k = 0;
	int leading = hx->top, first = 1, drop = 0;
	const struct mime_header *subject = NULL;
	if (hx->tag_first_subject)
		subject = mime_header_get(p, "subject");

	copy_to(e, hs);
	size_t ls = hs;
	while (ls < he) {
		const uint8_t *nl = memchr(e->msg + ls, '\n', he - ls);
		size_t next = nl != NULL ? (size_t)(nl - e->msg) + 1 : he;
		const struct mime_header *h = NULL;
		if (k < p->nheaders &&
		    off(e, p->headers[k].name) == ls)
			h = &p->headers[k++];
		int cont = h == NULL && (e->msg[ls] == ' ' || e->msg[ls] == '\t');
		if (leading) {
			/* (a continuation line stays with the line before
			 * it, which was leading: never put a field of ours
			 * above a line that would then continue it) */
			int keep_leading =
				(first && h == NULL && !cont) || /* From line */
				(h != NULL && name_is(h, "received")) || cont;
			if (!keep_leading) {
				put_inserted(e, subject != NULL);
				leading = 0;
			}
		}
		if (!cont)
			drop = hx->drop_content && h != NULL &&
			       name_is_content(h);
		if (drop) {
			/* left out */
		} else if (h != NULL && h == subject) {
			size_t colon = off(e, h->value);
			size_t j = colon;
			while (j < next && (e->msg[j] == ' ' || e->msg[j] == '\t'))
				j++;
			size_t line_out = e->out->len;
			put(e, e->msg + ls, colon - ls);
			puts_(e, " ");
			size_t mark = e->out->len;
			if (put_tags(e, h) == 0) { /* already tagged */
				if (!e->err)
					e->out->len = mark - 1;
				put(e, e->msg + colon, next - colon);
			} else {
				/* Fold rather than make the line longer than
				 * RFC 5322's 998: "tag CRLF SP value" unfolds
				 * to "tag SP value". */
				int fold = e->out->len - line_out + (next - j) >
					   SUBJECT_LINE_MAX;
				if (j < next && e->msg[j] != '\r' &&
				    e->msg[j] != '\n')
					puts_(e, fold ? "\r\n " : " ");
				put(e, e->msg + j, next - j);
			}
		} else {
			put(e, e->msg + ls, next - ls);
		}
		first = 0;
		ls = next;
	}
	e->pos = he;
	int at_eol = he == hs || e->msg[he - 1] == '\n';
	/* The block ends without a line end (the message ends there): end
	 * the last line before writing more (a lone CR gets its LF). */
	const char *eol = he > hs && e->msg[he - 1] == '\r' ? "\n" : "\r\n";
	if (leading) {
		if (!at_eol)
			puts_(e, eol);
		at_eol = 1;
		size_t before = e->out->len;
		put_inserted(e, subject != NULL);
		/* No header block at all (the body starts at the first byte):
		 * fields inserted there need a blank line of their own (a
		 * stripped root gets it after the notice headers). */
		if (e->out->len > before && !hx->drop_content && hs == he &&
		    off(e, p->body) == hs && e->len > 0)
			puts_(e, "\r\n");
	}
	if (hx->drop_content) {
		if (!at_eol)
			puts_(e, eol);
		put_notice_headers(e, p, hx->top && !hx->mime_version);
	}
}

/* ---- marking the parts to replace ---------------------------------------- */

static int is_ancestor(const struct mime_part *a, const struct mime_part *p)
{
	for (p = p->parent; p != NULL; p = p->parent)
		if (p == a)
			return 1;
	return 0;
}

/* Mark the primary-reading parts under m that share bytes with
 * [s, e): a leaf, or a container whose own header block is touched;
 * otherwise its children. Returns how many were marked. */
static unsigned mark_overlaps(struct emit *e, const struct mime_part *m,
			      size_t s, size_t end, uint16_t bit)
{
	unsigned n = 0;
	for (const struct mime_part *ch = m->first_child; ch != NULL;
	     ch = ch->next_sibling) {
		if (ch->flags & MIME_F_ALT_VIEW)
			continue;
		size_t cs = part_start(e, ch), ce = part_end(e, ch);
		if (!(cs < end && ce > s))
			continue;
		size_t bs = off(e, ch->body);
		unsigned sub = 0;
		if (!mime_part_is_leaf(ch) && ch->first_child != NULL &&
		    !(s < bs && end > cs))
			sub = mark_overlaps(e, ch, s, end, bit);
		if (sub == 0)
			e->c->edit_mask[ch->id] |= bit;
		n += sub ? sub : 1;
	}
	return n;
}

static void mark_part(struct emit *e, const struct mime_part *p,
		      uint16_t bit)
{
	if (!(p->flags & MIME_F_ALT_VIEW)) {
		e->c->edit_mask[p->id] |= bit;
		return;
	}
	/* An alternate reading: the bytes of p belong to parts of the
	 * primary reading of the multipart that has both. */
	const struct mime_part *m = p->parent;
	while (m->flags & MIME_F_ALT_VIEW)
		m = m->parent;
	if (mark_overlaps(e, m, part_start(e, p), part_end(e, p), bit) == 0)
		e->c->edit_mask[m->id] |= bit;
}

/* ---- writing the tree ---------------------------------------------------- */

/* STRIP bits of p and of every part in its subtree (ids are pre-order, so
 * the subtree is the run of ids after p whose parts descend from it). */
static unsigned subtree_mask(const struct emit *e, const struct mime_part *p)
{
	const struct mime_message *t = &e->c->tree;
	unsigned mask = e->c->edit_mask[p->id];
	for (unsigned j = (unsigned)p->id + 1;
	     j < t->nparts && is_ancestor(p, t->parts[j]); j++)
		mask |= e->c->edit_mask[j];
	return mask;
}

/* A boundary we can write back as a closing delimiter. */
static int boundary_ok(const char *b)
{
	size_t n = strlen(b);
	return n > 0 && n <= 200 && strpbrk(b, "\r\n") == NULL;
}

/* The leaf mime.c adds when the part limit is reached: everything from
 * there to the end of the message, path "<multipart>.rest". */
static int is_rest_leaf(const struct mime_part *p)
{
	const char *dot = strrchr(p->path, '.');
	return (p->flags & MIME_F_TRUNCATED) && p->parent != NULL &&
	       strcmp(dot != NULL ? dot + 1 : p->path, "rest") == 0;
}

static void replace_part(struct emit *e, const struct mime_part *p)
{
	size_t ps = part_start(e, p), pe = part_end(e, p);
	if (ps < e->pos)
		return; /* never: primary parts do not overlap */
	unsigned mask = subtree_mask(e, p);
	copy_to(e, ps);
	if (p->flags & (MIME_F_PREAMBLE | MIME_F_EPILOGUE)) {
		/* Text outside the body parts: the notice alone. */
		put_notices(e, mask);
	} else if (p->parent != NULL && (p->parent->flags & MIME_F_MESSAGE)) {
		/* The root of an attached message: keep its header fields
		 * (From, Subject ...), replace its content. */
		struct hdr_edits hx = {.drop_content = 1};
		put_header_block(e, p, &hx);
		puts_(e, "\r\n");
		put_notices(e, mask);
	} else {
		put_notice_headers(e, p, 0);
		puts_(e, "\r\n");
		put_notices(e, mask);
	}
	e->pos = pe;
	/* The leaf that holds the rest of the message after the part limit
	 * also held the closing delimiters of its multipart ancestors. */
	if (is_rest_leaf(p)) {
		for (const struct mime_part *a = p->parent; a != NULL;
		     a = a->parent)
			if ((a->flags & MIME_F_MULTIPART) &&
			    boundary_ok(a->boundary)) {
				puts_(e, "\r\n--");
				puts_(e, a->boundary);
				puts_(e, "--");
			}
	}
}

static void walk(struct emit *e, const struct mime_part *p)
{
	for (const struct mime_part *ch = p->first_child; ch != NULL;
	     ch = ch->next_sibling) {
		if (ch->flags & MIME_F_ALT_VIEW)
			continue;
		if (e->c->edit_mask[ch->id])
			replace_part(e, ch);
		else
			walk(e, ch);
	}
}

int scan_edit_apply(struct scan_ctx *c, const uint8_t *msg, size_t len,
		    const struct scan_verdict *v, struct scan_edit_buf *out)
{
	out->len = 0;
	if (!scan_edit_changes_message(v))
		return 0;
	const struct mime_message *t = &c->tree;
	if (t->root == NULL || msg != c->msg || len != c->msg_len)
		return -EINVAL;
	struct emit e = {.out = out, .msg = msg, .len = len, .c = c, .v = v};
	/* The result is about the message's size: one allocation (or none
	 * once warm) instead of a doubling series. */
	if (reserve(&e, len + (64u << 10)) < 0)
		return -ENOMEM;

	memset(c->edit_mask, 0, t->nparts * sizeof(*c->edit_mask));
	int strip_root = 0;
	for (unsigned i = 0; i < v->nedits; i++) {
		const struct scan_edit *ed = &v->edits[i];
		if (ed->kind != SCAN_EDIT_STRIP)
			continue;
		if (ed->part < 0 || ed->part >= c->next_id ||
		    (unsigned)ed->part >= c->holder_cap)
			return -EINVAL;
		int h = c->holder[ed->part];
		if (h < 0 || (unsigned)h >= t->nparts)
			return -EINVAL;
		mark_part(&e, t->parts[h], (uint16_t)(1u << i));
	}
	strip_root = c->edit_mask[0] != 0;

	const struct mime_part *root = t->root;
	struct hdr_edits hx = {
		.top = 1,
		.drop_content = strip_root,
		.tag_first_subject = 1,
		.mime_version = mime_header_get(root, "mime-version") != NULL,
	};
	put_header_block(&e, root, &hx);
	if (strip_root) {
		puts_(&e, "\r\n");
		put_notices(&e, subtree_mask(&e, root));
		e.pos = len;
	} else {
		walk(&e, root);
		copy_to(&e, len);
	}
	if (e.err < 0) {
		out->len = 0;
		return e.err;
	}
	return 0;
}
