/* tests/unit/test_mime.c - scan/mime.c: the MIME tree. */
#include "scan/charset.h"
#include "scan/mime.h"
#include "tests/unit/check.h"
#include "tests/unit/finding_names.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ----------------------------------------------------- */

static const char *flag_letters(unsigned f, char *buf)
{
	static const struct {
		unsigned f;
		char c;
	} tab[] = {
		{ MIME_F_MULTIPART, 'M' }, { MIME_F_MESSAGE, 'G' },
		{ MIME_F_NO_HEADERS, 'N' }, { MIME_F_UNCLOSED, 'U' },
		{ MIME_F_ALT_VIEW, 'A' },   { MIME_F_TRUNCATED, 'T' },
		{ MIME_F_ATTACHMENT, 'F' }, { MIME_F_PREAMBLE, 'P' },
		{ MIME_F_EPILOGUE, 'E' },
	};
	size_t o = 0;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (f & tab[i].f)
			buf[o++] = tab[i].c;
	buf[o] = '\0';
	return buf;
}

/* One line per part, pre-order:
 * path|content-type|FLAGS|cte[/alt]|filename|body (leaves; \r \n escaped) */
static size_t tree_str(const struct mime_message *m, char *buf, size_t sz)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < m->nparts && o + 1 < sz; i++) {
		const struct mime_part *p = m->parts[i];
		char fl[16], cte[40] = "";
		if (p->cte != MIME_CTE_NONE || p->cte_alt != MIME_CTE_NONE)
			snprintf(cte, sizeof(cte), "%s%s%s",
				 mime_cte_name(p->cte),
				 p->cte_alt ? "/" : "",
				 p->cte_alt ? mime_cte_name(p->cte_alt) : "");
		o += (size_t)snprintf(buf + o, sz - o, "%s%s|%s|%s|%s|%s|",
				      i ? "\n" : "", p->path[0] ? p->path : "-",
				      p->content_type, flag_letters(p->flags, fl),
				      cte, p->filename ? p->filename : "");
		if (mime_part_is_leaf(p))
			for (size_t k = 0; k < p->body_len && o + 3 < sz; k++) {
				uint8_t c = p->body[k];
				if (c == '\r' || c == '\n') {
					buf[o++] = '\\';
					buf[o++] = c == '\r' ? 'r' : 'n';
				} else {
					buf[o++] = (char)c;
				}
			}
		if (o >= sz)
			o = sz - 1;
		buf[o] = '\0';
	}
	return o;
}

/* Structural invariants every parse must keep, whatever the input. */
static int check_tree(const uint8_t *msg, size_t len,
		      const struct mime_message *m)
{
	int bad = 0;
	if (m->nparts == 0 || m->root == NULL || m->parts[0] != m->root ||
	    m->root->parent != NULL || strcmp(m->root->path, "") != 0)
		return 1;
	for (unsigned i = 0; i < m->nparts; i++) {
		const struct mime_part *p = m->parts[i];
		bad |= p->id != (int)i;
		bad |= p->body < msg || p->body + p->body_len > msg + len;
		bad |= p->header_raw < msg ||
		       p->header_raw + p->header_raw_len > msg + len;
		bad |= p->nheaders > 0 && p->headers == NULL;
		bad |= p->content_type == NULL || p->path == NULL;
		if (p->parent != NULL) {
			bad |= p->parent->id >= p->id;
			bad |= p->depth != p->parent->depth + 1;
			if (p->parent->flags & MIME_F_ALT_VIEW)
				bad |= !(p->flags & MIME_F_ALT_VIEW);
		}
		unsigned n = 0;
		const struct mime_part *last = NULL;
		for (const struct mime_part *c = p->first_child; c != NULL;
		     c = c->next_sibling) {
			bad |= c->parent != p;
			bad |= last != NULL && c->id <= last->id;
			last = c;
			n++;
		}
		bad |= n != p->nchildren || last != p->last_child;
		/* a leaf at the message level has no children */
		if (mime_part_is_leaf(p))
			bad |= p->first_child != NULL &&
			       !(p->first_child->flags & MIME_F_TRUNCATED);
	}
	/* pre-order: walking the tree yields ids 0, 1, 2 ... */
	const struct mime_part **stack = malloc(m->nparts * sizeof(*stack));
	unsigned sp = 0, next = 0;
	stack[sp++] = m->root;
	while (sp > 0) {
		const struct mime_part *p = stack[--sp];
		bad |= p->id != (int)next++;
		/* push children in reverse */
		unsigned k = p->nchildren;
		const struct mime_part *kids[64];
		const struct mime_part *c = p->first_child;
		if (k > 64) { /* walk big fan-outs in two steps */
			for (unsigned j = 0; c != NULL; j++, c = c->next_sibling)
				if (sp < m->nparts)
					stack[sp++] = c;
			/* reverse the pushed range */
			for (unsigned a = sp - k, b = sp - 1; a < b; a++, b--) {
				const struct mime_part *t = stack[a];
				stack[a] = stack[b];
				stack[b] = t;
			}
			continue;
		}
		for (unsigned j = 0; c != NULL; j++, c = c->next_sibling)
			kids[j] = c;
		while (k > 0 && sp < m->nparts)
			stack[sp++] = kids[--k];
	}
	bad |= next != m->nparts;
	free(stack);
	return bad;
}

/* ---- the table --------------------------------------------------- */

static const struct tree_case {
	const char *name;
	const char *msg;
	struct mime_limits lim;
	const char *tree;
	const char *findings;
} tree_cases[] = {
	{ "plain message",
	  "Subject: hi\r\n\r\nhello\r\n", { 0 },
	  "-|text/plain||||hello\\r\\n", "" },
	{ "empty message", "", { 0 }, "-|text/plain|N|||", "" },
	{ "no headers at all", "just text\r\n", { 0 },
	  "-|text/plain|N|||just text\\r\\n", "" },
	{ "multipart CRLF",
	  "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	  "--b\r\nContent-Type: text/plain\r\n\r\none\r\n"
	  "--b\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n"
	  "--b--\r\n", { 0 },
	  "-|multipart/mixed|M|||\n"
	  "1|text/plain||||one\n"
	  "2|text/html||||<p>two</p>", "" },
	{ "multipart bare LF",
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: text/plain\n\none\n--b\n\ntwo\n--b--\n", { 0 },
	  "-|multipart/mixed|M|||\n"
	  "1|text/plain||||one\n"
	  "2|text/plain|N|||two", "" },
	{ "nested multipart and message/rfc822",
	  "Content-Type: multipart/mixed; boundary=o\r\n\r\n"
	  "--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
	  "--i\r\n\r\nalt1\r\n--i\r\n\r\nalt2\r\n--i--\r\n"
	  "--o\r\nContent-Type: message/rfc822\r\n\r\n"
	  "Subject: inner\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
	  "--x\r\nContent-Type: application/pdf; name=a.pdf\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--x--\r\n"
	  "--o--\r\n", { 0 },
	  "-|multipart/mixed|M|||\n"
	  "1|multipart/alternative|M|||\n"
	  "1.1|text/plain|N|||alt1\n"
	  "1.2|text/plain|N|||alt2\n"
	  "2|message/rfc822|G|||\n"
	  "2.1|multipart/mixed|M|||\n"
	  "2.1.1|application/pdf|F|base64|a.pdf|QUJD", "" },
	{ "missing boundary parameter",
	  "Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
	  { 0 }, "-|multipart/mixed||||--b\\r\\n\\r\\nx\\r\\n--b--\\r\\n",
	  "missing-boundary" },
	{ "empty boundary parameter",
	  "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\nx", { 0 },
	  "-|multipart/mixed||||x", "missing-boundary" },
	{ "missing closing boundary",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n", { 0 },
	  "-|multipart/mixed|MU|||\n"
	  "1|text/plain|N|||one\n"
	  "2|text/plain|N|||two\\r\\n", "unclosed-multipart" },
	{ "boundary never appears",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\nhidden payload\r\n",
	  { 0 },
	  "-|multipart/mixed|MU|||\n"
	  "preamble|text/plain|NP|||hidden payload\\r\\n", "boundary-not-found" },
	{ "preamble and epilogue",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "pre text\r\n--b\r\n\r\nbody\r\n--b--\r\nepi text\r\n", { 0 },
	  "-|multipart/mixed|M|||\n"
	  "preamble|text/plain|NP|||pre text\n"
	  "1|text/plain|N|||body\n"
	  "epilogue|text/plain|NE|||epi text\\r\\n", "" },
	{ "whitespace-only preamble and epilogue are not parts",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  " \r\n\r\n--b\r\n\r\nbody\r\n--b--\r\n\r\n \t\r\n", { 0 },
	  "-|multipart/mixed|M|||\n1|text/plain|N|||body", "" },
	{ "part without header block, part with empty block",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nno headers here\r\n--b\r\n\r\nempty block\r\n--b\r\n--b--",
	  { 0 },
	  "-|multipart/mixed|M|||\n"
	  "1|text/plain|N|||no headers here\n"
	  "2|text/plain|N|||empty block\n"
	  "3|text/plain|N|||", "" },
	{ "transport padding after boundaries",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b \t\r\n\r\none\r\n--b\t\r\n\r\ntwo\r\n--b--  \r\n", { 0 },
	  "-|multipart/mixed|M|||\n"
	  "1|text/plain|N|||one\n"
	  "2|text/plain|N|||two", "" },
	{ "boundary prefix lines do not split",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\n\r\n--bx\r\n--b x\r\n-- b\r\n--b--\r\n", { 0 },
	  "-|multipart/mixed|M|||\n"
	  "1|text/plain|N|||--bx\\r\\n--b x\\r\\n-- b", "" },
	{ "boundary at end without line break",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\n\r\nx\r\n--b--", { 0 },
	  "-|multipart/mixed|M|||\n1|text/plain|N|||x", "" },
	{ "duplicate boundary: both readings",
	  "Content-Type: multipart/mixed; boundary=a; boundary=b\r\n\r\n"
	  "--a\r\n\r\nA1\r\n--b\r\n\r\nB1\r\n--a--\r\n--b--\r\n", { 0 },
	  "-|multipart/mixed|M|||\n"
	  "1|text/plain|N|||A1\\r\\n--b\\r\\n\\r\\nB1\n"
	  "epilogue|text/plain|NE|||--b--\\r\\n\n"
	  "alt.preamble|text/plain|NAP|||--a\\r\\n\\r\\nA1\n"
	  "alt1|text/plain|NA|||B1\\r\\n--a--", "duplicate-boundary" },
	{ "same boundary twice is no ambiguity",
	  "Content-Type: multipart/mixed; boundary=a; boundary=\"a\"\r\n\r\n"
	  "--a\r\n\r\nx\r\n--a--\r\n", { 0 },
	  "-|multipart/mixed|M|||\n1|text/plain|N|||x", "" },
	{ "conflicting CTE",
	  "Content-Transfer-Encoding: base64\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\nQUJD\r\n", { 0 },
	  "-|text/plain||base64/quoted-printable||QUJD\\r\\n",
	  "conflicting-cte" },
	{ "repeated identical CTE",
	  "Content-Transfer-Encoding: base64\r\n"
	  "Content-Transfer-Encoding: BASE64 (again)\r\n\r\nQUJD", { 0 },
	  "-|text/plain||base64||QUJD", "" },
	{ "unknown CTE",
	  "Content-Transfer-Encoding: x-rot13\r\n\r\nabc", { 0 },
	  "-|text/plain||unknown||abc", "unknown-cte" },
	{ "uuencode CTE spellings",
	  "Content-Transfer-Encoding: X-UUE\r\n\r\nabc", { 0 },
	  "-|text/plain||x-uuencode||abc", "" },
	{ "two Content-Type headers",
	  "Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\nx", { 0 },
	  "-|text/plain||||x", "duplicate-content-type" },
	{ "invalid Content-Type",
	  "Content-Type: garbage\r\n\r\nx", { 0 },
	  "-|text/plain||||x", "invalid-content-type" },
	{ "filename: RFC 2231 over plain, ambiguity reported",
	  "Content-Type: application/octet-stream; name=\"ct.bin\"\r\n"
	  "Content-Disposition: attachment; filename=\"plain.txt\";\r\n"
	  " filename*=utf-8''%E2%82%AC.exe\r\n\r\nx", { 0 },
	  "-|application/octet-stream|F||\xE2\x82\xAC.exe|x",
	  "ambiguous-filename" },
	{ "filename: RFC 2231 continuations",
	  "Content-Disposition: attachment; filename*0*=iso-8859-1''caf%E9;"
	  " filename*1=\".pdf\"\r\n\r\nx", { 0 },
	  "-|text/plain|F||caf\xC3\xA9.pdf|x", "" },
	{ "filename: RFC 2047 in a quoted value",
	  "Content-Disposition: inline;\r\n filename=\"=?utf-8?B?4oKs?=.doc\"\r\n"
	  "\r\nx", { 0 },
	  "-|text/plain|F||\xE2\x82\xAC.doc|x", "" },
	{ "filename: Content-Type name as fallback",
	  "Content-Type: image/png; name=pic.png\r\n"
	  "Content-Disposition: inline\r\n\r\nx", { 0 },
	  "-|image/png|F||pic.png|x", "" },
	{ "attachment without a name",
	  "Content-Disposition: ATTACHMENT\r\n\r\nx", { 0 },
	  "-|text/plain|F|||x", "" },
	{ "inline without a name is no attachment",
	  "Content-Disposition: inline\r\n\r\nx", { 0 },
	  "-|text/plain||||x", "" },
	{ "unknown disposition is an attachment",
	  "Content-Disposition: evil\r\n\r\nx", { 0 },
	  "-|text/plain|F|||x", "unknown-disposition" },
	{ "NUL in a filename",
	  "Content-Disposition: attachment; filename*=utf-8''a.pdf%00.exe\r\n"
	  "\r\nx", { 0 },
	  "-|text/plain|F||a.pdf\xEF\xBF\xBD.exe|x", "nul-in-filename" },
	{ "multipart/digest: parts default to message/rfc822",
	  "Content-Type: multipart/digest; boundary=d\r\n\r\n"
	  "--d\r\n\r\nSubject: m\r\n\r\nbody\r\n--d--\r\n", { 0 },
	  "-|multipart/digest|M|||\n"
	  "1|message/rfc822|GN|||\n"
	  "1.1|text/plain||||body", "" },
	{ "encoded message/rfc822 is a leaf",
	  "Content-Type: message/rfc822\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA==", { 0 },
	  "-|message/rfc822||base64||U3ViamVjdDogeA==", "encoded-message" },
	{ "encoded multipart",
	  "Content-Type: multipart/mixed; boundary=b\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\n--b\r\n\r\nx\r\n--b--", { 0 },
	  "-|multipart/mixed|M|base64||\n1|text/plain|N|||x",
	  "encoded-multipart" },
	{ "lines after the closing boundary",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\n\r\nx\r\n--b--\r\n--b\r\n\r\nhidden\r\n--b--\r\n", { 0 },
	  "-|multipart/mixed|M|||\n"
	  "1|text/plain|N|||x\n"
	  "epilogue|text/plain|NE|||--b\\r\\n\\r\\nhidden\\r\\n--b--\\r\\n",
	  "boundary-after-close" },
	{ "mbox From line",
	  "From a@b Mon Jan  1 00:00:00 2024\r\nSubject: s\r\n\r\nx", { 0 },
	  "-|text/plain||||x", "mbox-from-line" },
	{ "outer boundary ends an unclosed inner multipart",
	  "Content-Type: multipart/mixed; boundary=o\r\n\r\n"
	  "--o\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n"
	  "--i\r\n\r\nin\r\n--o\r\n\r\nafter\r\n--o--\r\n", { 0 },
	  "-|multipart/mixed|M|||\n"
	  "1|multipart/mixed|MU|||\n"
	  "1.1|text/plain|N|||in\n"
	  "2|text/plain|N|||after", "unclosed-multipart" },
	/* limits */
	{ "part limit: the rest is one leaf",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b\r\n\r\n3\r\n--b--\r\n",
	  { .parts = 3 },
	  "-|multipart/mixed|M|||\n"
	  "1|text/plain|N|||1\n"
	  "2|text/plain|N|||2\n"
	  "rest|text/plain|NT|||\\r\\n3\\r\\n--b--\\r\\n", "mime-parts" },
	{ "part limit 1: the root's body is the rest",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "pre\r\n--b\r\n\r\n1\r\n--b--\r\n", { .parts = 1 },
	  "-|multipart/mixed|M|||\n"
	  "rest|text/plain|NT|||pre\\r\\n--b\\r\\n\\r\\n1\\r\\n--b--\\r\\n",
	  "mime-parts" },
	{ "depth limit",
	  "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
	  "--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
	  "--c\r\n\r\ndeep\r\n--c--\r\n--b--\r\n--a--\r\n", { .depth = 2 },
	  "-|multipart/mixed|M|||\n"
	  "1|multipart/mixed|M|||\n"
	  "1.1|multipart/mixed|T|||--c\\r\\n\\r\\ndeep\\r\\n--c--",
	  "mime-depth" },
	{ "depth limit on message/rfc822",
	  "Content-Type: message/rfc822\r\n\r\n"
	  "Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\nbody", { .depth = 1 },
	  "-|message/rfc822|G|||\n"
	  "1|message/rfc822|T|||Subject: x\\r\\n\\r\\nbody", "mime-depth" },
	{ "header-bytes in a part: parsed no further",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n"
	  "X-Long: 0123456789012345678901234567890123456789\r\n\r\n"
	  "--c\r\n\r\nx\r\n--c--\r\n--b--\r\n", { .header_bytes = 60 },
	  "-|multipart/mixed|M|||\n"
	  "1|multipart/mixed|T|||X-Long: 0123456789012345678901234567890123456789"
	  "\\r\\n\\r\\n--c\\r\\n\\r\\nx\\r\\n--c--",
	  "header-bytes" },
};

static void test_tree_table(void)
{
	struct scan_arena *a = scan_arena_create(16u << 20);
	static char got[8192];
	for (size_t i = 0; i < sizeof(tree_cases) / sizeof(tree_cases[0]); i++) {
		const struct tree_case *t = &tree_cases[i];
		struct scan_verdict v;
		scan_verdict_init(&v, NULL, 0);
		struct mime_message m;
		size_t len = strlen(t->msg);
		int rc = mime_parse((const uint8_t *)t->msg, len, &t->lim, a,
				    &v, &m);
		CHECK_MSG(rc == 0, "%s: rc %d", t->name, rc);
		CHECK_MSG(check_tree((const uint8_t *)t->msg, len, &m) == 0,
			  "%s: tree invariants broken", t->name);
		tree_str(&m, got, sizeof(got));
		CHECK_MSG(strcmp(got, t->tree) == 0,
			  "%s:\n--- got\n%s\n--- want\n%s", t->name, got,
			  t->tree);
		char names[1024];
		finding_names(&v, names, sizeof(names));
		CHECK_MSG(strcmp(names, t->findings) == 0,
			  "%s: findings \"%s\", want \"%s\"", t->name, names,
			  t->findings);
		scan_arena_reset(a);
	}
	scan_arena_free(a);
}

/* Field values the tree table does not show. */
static void test_part_fields(void)
{
	const char *msg =
		"Content-Type: multipart/mixed; boundary=\"=_B\"\r\n\r\n"
		"--=_B\r\nContent-Type: TEXT/Plain; CharSet=\"ISO-8859-1\"\r\n"
		"\r\ncaf\xE9\r\n--=_B--\r\n";
	struct scan_arena *a = scan_arena_create(1u << 20);
	struct scan_verdict v;
	scan_verdict_init(&v, NULL, 0);
	struct mime_message m;
	CHECK_EQ_INT(mime_parse((const uint8_t *)msg, strlen(msg), NULL, a, &v,
				&m), 0);
	CHECK_EQ_INT(m.nparts, 2);
	CHECK_EQ_STR(m.root->boundary, "=_B");
	CHECK_EQ_INT(m.root->nheaders, 1);
	CHECK_EQ_INT(m.root->depth, 0);
	struct mime_part *p = m.parts[1];
	CHECK_EQ_STR(p->content_type, "text/plain");
	CHECK_EQ_STR(p->charset, "iso-8859-1");
	CHECK_EQ_STR(p->path, "1");
	CHECK_EQ_INT(p->depth, 1);
	CHECK(p->parent == m.root && m.root->first_child == p);
	CHECK(p->header_raw == (const uint8_t *)strstr(msg, "Content-Type: TEXT"));
	CHECK_EQ_MEM(p->body, p->body_len, "caf\xE9", 4);
	CHECK(p->disposition == NULL && p->filename == NULL);
	CHECK(p->boundary == NULL);
	CHECK_EQ_STR(mime_cte_name(MIME_CTE_QP), "quoted-printable");
	CHECK_EQ_STR(mime_cte_name(MIME_CTE_NONE), "none");
	scan_arena_free(a);
}

/* The arena running out: -ENOMEM and a tree that is still consistent. */
static void test_enomem(void)
{
	char msg[4096];
	size_t o = (size_t)snprintf(msg, sizeof(msg),
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o,
			"--b\r\nContent-Type: text/plain; name=f%d.txt\r\n\r\nx\r\n", i);
	o += (size_t)snprintf(msg + o, sizeof(msg) - o, "--b--\r\n");
	int saw_enomem = 0, saw_ok = 0;
	for (size_t cap = 64; cap < 65536; cap += 61) {
		struct scan_arena *a = scan_arena_create(cap);
		struct scan_verdict v;
		scan_verdict_init(&v, NULL, 0);
		struct mime_message m;
		int rc = mime_parse((const uint8_t *)msg, o, NULL, a, &v, &m);
		if (rc == -ENOMEM) {
			saw_enomem = 1;
			if (m.nparts > 0)
				CHECK(check_tree((const uint8_t *)msg, o, &m) == 0);
		} else {
			CHECK_EQ_INT(rc, 0);
			CHECK_EQ_INT(m.nparts, 41);
			saw_ok = 1;
		}
		scan_arena_free(a);
	}
	CHECK(saw_enomem && saw_ok);
}

/* ---- malicious inputs -------------------------------------------- */

/* Parses msg with a fresh verdict in v; *secs is the CPU time it took. */
static int parse_timed(const char *msg, size_t len,
		       const struct mime_limits *lim, struct scan_arena *a,
		       struct scan_verdict *v, struct mime_message *m,
		       double *secs)
{
	scan_verdict_init(v, NULL, 0);
	clock_t t0 = clock();
	int rc = mime_parse((const uint8_t *)msg, len, lim, a, v, m);
	*secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	return rc;
}

static void test_deep_nesting_stops(void)
{
	const int n = 10000;
	size_t cap = (size_t)n * 80 + 64, o = 0;
	char *msg = malloc(cap);
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(msg + o, cap - o,
			"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n",
			i, i);
	o += (size_t)snprintf(msg + o, cap - o, "\r\ninnermost\r\n");
	for (int i = n; i-- > 0;)
		o += (size_t)snprintf(msg + o, cap - o, "--b%d--\r\n", i);
	struct scan_arena *a = scan_arena_create(64u << 20);
	struct scan_verdict v;
	struct mime_message m;
	double secs;
	CHECK_EQ_INT(parse_timed(msg, o, NULL, a, &v, &m, &secs), 0);
	CHECK_MSG(secs < 3.0, "took %.2f s", secs);
	CHECK(check_tree((const uint8_t *)msg, o, &m) == 0);
	CHECK_EQ_INT(m.nparts, MIME_DEFAULT_DEPTH + 1);
	struct mime_part *last = m.parts[m.nparts - 1];
	CHECK_EQ_INT(last->depth, MIME_DEFAULT_DEPTH);
	CHECK(mime_part_is_leaf(last) && (last->flags & MIME_F_TRUNCATED));
	CHECK(memmem(last->body, last->body_len, "innermost", 9) != NULL);
	CHECK(scan_verdict_has(&v, SCAN_F_LIMIT));
	CHECK_EQ_STR(v.findings[0].name, "mime-depth");

	/* A configured depth above the hard cap is capped. */
	struct mime_limits lim = { .depth = 1000000 };
	scan_arena_reset(a);
	CHECK_EQ_INT(parse_timed(msg, o, &lim, a, &v, &m, &secs), 0);
	CHECK_EQ_INT(m.nparts, MIME_DEPTH_MAX + 1);
	CHECK_MSG(secs < 10.0, "took %.2f s", secs);
	free(msg);
	scan_arena_free(a);
}

static void test_many_parts_stop(void)
{
	const int n = 100000;
	size_t cap = (size_t)n * 16 + 128, o = 0;
	char *msg = malloc(cap);
	o += (size_t)snprintf(msg + o, cap - o,
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(msg + o, cap - o, "--b\r\n\r\n%d\r\n", i);
	o += (size_t)snprintf(msg + o, cap - o, "--b--\r\n");
	struct scan_arena *a = scan_arena_create(256u << 20);
	struct scan_verdict v;
	struct mime_message m;
	double secs;
	CHECK_EQ_INT(parse_timed(msg, o, NULL, a, &v, &m, &secs), 0);
	CHECK_MSG(secs < 3.0, "took %.2f s", secs);
	CHECK(check_tree((const uint8_t *)msg, o, &m) == 0);
	CHECK_EQ_INT(m.nparts, MIME_DEFAULT_PARTS + 1);
	struct mime_part *rest = m.parts[m.nparts - 1];
	CHECK_EQ_STR(rest->path, "rest");
	CHECK(rest->flags & MIME_F_TRUNCATED);
	CHECK(rest->body + rest->body_len == (const uint8_t *)msg + o);
	CHECK(memmem(rest->body, rest->body_len, "\r\n99999\r\n", 9) != NULL);
	CHECK_EQ_INT(v.nfindings, 1);
	CHECK_EQ_STR(v.findings[0].name, "mime-parts");

	/* Without a part limit in reach all 100,000 parts, still linear. */
	struct mime_limits lim = { .parts = 200000 };
	scan_arena_reset(a);
	CHECK_EQ_INT(parse_timed(msg, o, &lim, a, &v, &m, &secs), 0);
	CHECK_MSG(secs < 3.0, "took %.2f s", secs);
	CHECK_EQ_INT(m.nparts, n + 1);
	CHECK_EQ_INT(v.nfindings, 0);
	free(msg);
	scan_arena_free(a);
}

static void test_huge_header_line(void)
{
	size_t n = 50u << 20;
	char *msg = malloc(n + 64);
	size_t o = (size_t)snprintf(msg, 64, "Subject: ");
	memset(msg + o, 'A', n);
	o += n;
	memcpy(msg + o, "\r\n\r\nbody", 8);
	o += 8;
	struct scan_arena *a = scan_arena_create(1u << 20);
	struct scan_verdict v;
	struct mime_message m;
	double secs;
	CHECK_EQ_INT(parse_timed(msg, o, NULL, a, &v, &m, &secs), 0);
	CHECK_MSG(secs < 1.0, "took %.2f s", secs);
	CHECK_EQ_INT(m.nparts, 1);
	CHECK(m.root->flags & MIME_F_TRUNCATED);
	CHECK_EQ_INT(m.root->body_len, o); /* every byte stays reachable */
	CHECK_EQ_STR(v.findings[0].name, "header-bytes");
	free(msg);
	scan_arena_free(a);
}

/* Millions of "--" lines that are not the boundary: one pass. */
static void test_many_near_boundaries(void)
{
	size_t lines = 2000000, o = 0;
	char *msg = malloc(lines * 5 + 128);
	o += (size_t)sprintf(msg, "Content-Type: multipart/mixed; boundary=bb\r\n\r\n--bb\r\n\r\n");
	for (size_t i = 0; i < lines; i++) {
		memcpy(msg + o, "--b\r\n", 5);
		o += 5;
	}
	struct scan_arena *a = scan_arena_create(1u << 20);
	struct scan_verdict v;
	struct mime_message m;
	double secs;
	CHECK_EQ_INT(parse_timed(msg, o, NULL, a, &v, &m, &secs), 0);
	CHECK_MSG(secs < 3.0, "took %.2f s", secs);
	CHECK_EQ_INT(m.nparts, 2);
	CHECK(m.root->flags & MIME_F_UNCLOSED);
	free(msg);
	scan_arena_free(a);
}

/* Duplicate boundaries at every level: alternate views are built once
 * per level, not 2^depth times. */
static void test_alt_views_do_not_explode(void)
{
	const int n = 15;
	size_t cap = 8192, o = 0;
	char *msg = malloc(cap);
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(msg + o, cap - o,
			"Content-Type: multipart/mixed; boundary=a%d; boundary=z%d\r\n\r\n"
			"--a%d\r\n--z%d\r\n", i, i, i, i);
	o += (size_t)snprintf(msg + o, cap - o, "\r\nx\r\n");
	struct scan_arena *a = scan_arena_create(64u << 20);
	struct scan_verdict v;
	scan_verdict_init(&v, NULL, 0);
	struct mime_message m;
	CHECK_EQ_INT(mime_parse((const uint8_t *)msg, o, NULL, a, &v, &m), 0);
	CHECK(check_tree((const uint8_t *)msg, o, &m) == 0);
	CHECK_MSG(m.nparts < 200, "%u parts", m.nparts);
	unsigned alt = 0;
	for (unsigned i = 0; i < m.nparts; i++)
		alt += (m.parts[i]->flags & MIME_F_ALT_VIEW) != 0;
	CHECK(alt > 0);
	free(msg);
	scan_arena_free(a);
}

int main(void)
{
	RUN(test_tree_table);
	RUN(test_part_fields);
	RUN(test_enomem);
	RUN(test_deep_nesting_stops);
	RUN(test_many_parts_stop);
	RUN(test_huge_header_line);
	RUN(test_many_near_boundaries);
	RUN(test_alt_views_do_not_explode);
	scan_charset_thread_fini();
	return CHECK_DONE();
}
