/* scan/html.c - see html.h. */
#include "scan/html.h"
#include "scan/deadline.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- character references ---------------------------------------------- */

struct entity {
	char name[9];
	uint16_t cp;
	uint8_t legacy; /* also recognised without ';' */
};

/* HTML 4 (name2codepoint) + apos + the upper-case legacy aliases. */
static const struct entity entities[] = {
	{"AElig", 0x00C6, 1},
	{"AMP", 0x0026, 1},
	{"Aacute", 0x00C1, 1},
	{"Acirc", 0x00C2, 1},
	{"Agrave", 0x00C0, 1},
	{"Alpha", 0x0391, 0},
	{"Aring", 0x00C5, 1},
	{"Atilde", 0x00C3, 1},
	{"Auml", 0x00C4, 1},
	{"Beta", 0x0392, 0},
	{"COPY", 0x00A9, 1},
	{"Ccedil", 0x00C7, 1},
	{"Chi", 0x03A7, 0},
	{"Dagger", 0x2021, 0},
	{"Delta", 0x0394, 0},
	{"ETH", 0x00D0, 1},
	{"Eacute", 0x00C9, 1},
	{"Ecirc", 0x00CA, 1},
	{"Egrave", 0x00C8, 1},
	{"Epsilon", 0x0395, 0},
	{"Eta", 0x0397, 0},
	{"Euml", 0x00CB, 1},
	{"GT", 0x003E, 1},
	{"Gamma", 0x0393, 0},
	{"Iacute", 0x00CD, 1},
	{"Icirc", 0x00CE, 1},
	{"Igrave", 0x00CC, 1},
	{"Iota", 0x0399, 0},
	{"Iuml", 0x00CF, 1},
	{"Kappa", 0x039A, 0},
	{"LT", 0x003C, 1},
	{"Lambda", 0x039B, 0},
	{"Mu", 0x039C, 0},
	{"Ntilde", 0x00D1, 1},
	{"Nu", 0x039D, 0},
	{"OElig", 0x0152, 0},
	{"Oacute", 0x00D3, 1},
	{"Ocirc", 0x00D4, 1},
	{"Ograve", 0x00D2, 1},
	{"Omega", 0x03A9, 0},
	{"Omicron", 0x039F, 0},
	{"Oslash", 0x00D8, 1},
	{"Otilde", 0x00D5, 1},
	{"Ouml", 0x00D6, 1},
	{"Phi", 0x03A6, 0},
	{"Pi", 0x03A0, 0},
	{"Prime", 0x2033, 0},
	{"Psi", 0x03A8, 0},
	{"QUOT", 0x0022, 1},
	{"REG", 0x00AE, 1},
	{"Rho", 0x03A1, 0},
	{"Scaron", 0x0160, 0},
	{"Sigma", 0x03A3, 0},
	{"THORN", 0x00DE, 1},
	{"Tau", 0x03A4, 0},
	{"Theta", 0x0398, 0},
	{"Uacute", 0x00DA, 1},
	{"Ucirc", 0x00DB, 1},
	{"Ugrave", 0x00D9, 1},
	{"Upsilon", 0x03A5, 0},
	{"Uuml", 0x00DC, 1},
	{"Xi", 0x039E, 0},
	{"Yacute", 0x00DD, 1},
	{"Yuml", 0x0178, 0},
	{"Zeta", 0x0396, 0},
	{"aacute", 0x00E1, 1},
	{"acirc", 0x00E2, 1},
	{"acute", 0x00B4, 1},
	{"aelig", 0x00E6, 1},
	{"agrave", 0x00E0, 1},
	{"alefsym", 0x2135, 0},
	{"alpha", 0x03B1, 0},
	{"amp", 0x0026, 1},
	{"and", 0x2227, 0},
	{"ang", 0x2220, 0},
	{"apos", 0x0027, 0},
	{"aring", 0x00E5, 1},
	{"asymp", 0x2248, 0},
	{"atilde", 0x00E3, 1},
	{"auml", 0x00E4, 1},
	{"bdquo", 0x201E, 0},
	{"beta", 0x03B2, 0},
	{"brvbar", 0x00A6, 1},
	{"bull", 0x2022, 0},
	{"cap", 0x2229, 0},
	{"ccedil", 0x00E7, 1},
	{"cedil", 0x00B8, 1},
	{"cent", 0x00A2, 1},
	{"chi", 0x03C7, 0},
	{"circ", 0x02C6, 0},
	{"clubs", 0x2663, 0},
	{"cong", 0x2245, 0},
	{"copy", 0x00A9, 1},
	{"crarr", 0x21B5, 0},
	{"cup", 0x222A, 0},
	{"curren", 0x00A4, 1},
	{"dArr", 0x21D3, 0},
	{"dagger", 0x2020, 0},
	{"darr", 0x2193, 0},
	{"deg", 0x00B0, 1},
	{"delta", 0x03B4, 0},
	{"diams", 0x2666, 0},
	{"divide", 0x00F7, 1},
	{"eacute", 0x00E9, 1},
	{"ecirc", 0x00EA, 1},
	{"egrave", 0x00E8, 1},
	{"empty", 0x2205, 0},
	{"emsp", 0x2003, 0},
	{"ensp", 0x2002, 0},
	{"epsilon", 0x03B5, 0},
	{"equiv", 0x2261, 0},
	{"eta", 0x03B7, 0},
	{"eth", 0x00F0, 1},
	{"euml", 0x00EB, 1},
	{"euro", 0x20AC, 0},
	{"exist", 0x2203, 0},
	{"fnof", 0x0192, 0},
	{"forall", 0x2200, 0},
	{"frac12", 0x00BD, 1},
	{"frac14", 0x00BC, 1},
	{"frac34", 0x00BE, 1},
	{"frasl", 0x2044, 0},
	{"gamma", 0x03B3, 0},
	{"ge", 0x2265, 0},
	{"gt", 0x003E, 1},
	{"hArr", 0x21D4, 0},
	{"harr", 0x2194, 0},
	{"hearts", 0x2665, 0},
	{"hellip", 0x2026, 0},
	{"iacute", 0x00ED, 1},
	{"icirc", 0x00EE, 1},
	{"iexcl", 0x00A1, 1},
	{"igrave", 0x00EC, 1},
	{"image", 0x2111, 0},
	{"infin", 0x221E, 0},
	{"int", 0x222B, 0},
	{"iota", 0x03B9, 0},
	{"iquest", 0x00BF, 1},
	{"isin", 0x2208, 0},
	{"iuml", 0x00EF, 1},
	{"kappa", 0x03BA, 0},
	{"lArr", 0x21D0, 0},
	{"lambda", 0x03BB, 0},
	{"lang", 0x2329, 0},
	{"laquo", 0x00AB, 1},
	{"larr", 0x2190, 0},
	{"lceil", 0x2308, 0},
	{"ldquo", 0x201C, 0},
	{"le", 0x2264, 0},
	{"lfloor", 0x230A, 0},
	{"lowast", 0x2217, 0},
	{"loz", 0x25CA, 0},
	{"lrm", 0x200E, 0},
	{"lsaquo", 0x2039, 0},
	{"lsquo", 0x2018, 0},
	{"lt", 0x003C, 1},
	{"macr", 0x00AF, 1},
	{"mdash", 0x2014, 0},
	{"micro", 0x00B5, 1},
	{"middot", 0x00B7, 1},
	{"minus", 0x2212, 0},
	{"mu", 0x03BC, 0},
	{"nabla", 0x2207, 0},
	{"nbsp", 0x00A0, 1},
	{"ndash", 0x2013, 0},
	{"ne", 0x2260, 0},
	{"ni", 0x220B, 0},
	{"not", 0x00AC, 1},
	{"notin", 0x2209, 0},
	{"nsub", 0x2284, 0},
	{"ntilde", 0x00F1, 1},
	{"nu", 0x03BD, 0},
	{"oacute", 0x00F3, 1},
	{"ocirc", 0x00F4, 1},
	{"oelig", 0x0153, 0},
	{"ograve", 0x00F2, 1},
	{"oline", 0x203E, 0},
	{"omega", 0x03C9, 0},
	{"omicron", 0x03BF, 0},
	{"oplus", 0x2295, 0},
	{"or", 0x2228, 0},
	{"ordf", 0x00AA, 1},
	{"ordm", 0x00BA, 1},
	{"oslash", 0x00F8, 1},
	{"otilde", 0x00F5, 1},
	{"otimes", 0x2297, 0},
	{"ouml", 0x00F6, 1},
	{"para", 0x00B6, 1},
	{"part", 0x2202, 0},
	{"permil", 0x2030, 0},
	{"perp", 0x22A5, 0},
	{"phi", 0x03C6, 0},
	{"pi", 0x03C0, 0},
	{"piv", 0x03D6, 0},
	{"plusmn", 0x00B1, 1},
	{"pound", 0x00A3, 1},
	{"prime", 0x2032, 0},
	{"prod", 0x220F, 0},
	{"prop", 0x221D, 0},
	{"psi", 0x03C8, 0},
	{"quot", 0x0022, 1},
	{"rArr", 0x21D2, 0},
	{"radic", 0x221A, 0},
	{"rang", 0x232A, 0},
	{"raquo", 0x00BB, 1},
	{"rarr", 0x2192, 0},
	{"rceil", 0x2309, 0},
	{"rdquo", 0x201D, 0},
	{"real", 0x211C, 0},
	{"reg", 0x00AE, 1},
	{"rfloor", 0x230B, 0},
	{"rho", 0x03C1, 0},
	{"rlm", 0x200F, 0},
	{"rsaquo", 0x203A, 0},
	{"rsquo", 0x2019, 0},
	{"sbquo", 0x201A, 0},
	{"scaron", 0x0161, 0},
	{"sdot", 0x22C5, 0},
	{"sect", 0x00A7, 1},
	{"shy", 0x00AD, 1},
	{"sigma", 0x03C3, 0},
	{"sigmaf", 0x03C2, 0},
	{"sim", 0x223C, 0},
	{"spades", 0x2660, 0},
	{"sub", 0x2282, 0},
	{"sube", 0x2286, 0},
	{"sum", 0x2211, 0},
	{"sup", 0x2283, 0},
	{"sup1", 0x00B9, 1},
	{"sup2", 0x00B2, 1},
	{"sup3", 0x00B3, 1},
	{"supe", 0x2287, 0},
	{"szlig", 0x00DF, 1},
	{"tau", 0x03C4, 0},
	{"there4", 0x2234, 0},
	{"theta", 0x03B8, 0},
	{"thetasym", 0x03D1, 0},
	{"thinsp", 0x2009, 0},
	{"thorn", 0x00FE, 1},
	{"tilde", 0x02DC, 0},
	{"times", 0x00D7, 1},
	{"trade", 0x2122, 0},
	{"uArr", 0x21D1, 0},
	{"uacute", 0x00FA, 1},
	{"uarr", 0x2191, 0},
	{"ucirc", 0x00FB, 1},
	{"ugrave", 0x00F9, 1},
	{"uml", 0x00A8, 1},
	{"upsih", 0x03D2, 0},
	{"upsilon", 0x03C5, 0},
	{"uuml", 0x00FC, 1},
	{"weierp", 0x2118, 0},
	{"xi", 0x03BE, 0},
	{"yacute", 0x00FD, 1},
	{"yen", 0x00A5, 1},
	{"yuml", 0x00FF, 1},
	{"zeta", 0x03B6, 0},
	{"zwj", 0x200D, 0},
	{"zwnj", 0x200C, 0},
};

#define N_ENTITIES (sizeof(entities) / sizeof(entities[0]))
#define ENTITY_MAX 8        /* longest name ("thetasym") */
#define LEGACY_MAX 6        /* longest legacy name ("frac12") */

static int entity_cmp(const void *key, const void *elt)
{
	const struct entity *k = key, *e = elt;
	return strcmp(k->name, e->name);
}

static const struct entity *entity_find(const uint8_t *s, size_t len)
{
	struct entity key;
	if (len == 0 || len > ENTITY_MAX)
		return NULL;
	memcpy(key.name, s, len);
	key.name[len] = '\0';
	return bsearch(&key, entities, N_ENTITIES, sizeof(entities[0]),
		       entity_cmp);
}

/* windows-1252 for numeric references 0x80-0x9F; 0 = keep as is. */
static const uint16_t cp1252[32] = {
	0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
	0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static int is_alpha(uint8_t c)
{
	return (uint8_t)((c | 0x20) - 'a') < 26;
}

static int is_digit(uint8_t c)
{
	return (uint8_t)(c - '0') < 10;
}

static int is_alnum(uint8_t c)
{
	return is_alpha(c) || is_digit(c);
}

static int is_hex(uint8_t c)
{
	return is_digit(c) || (uint8_t)((c | 0x20) - 'a') < 6;
}

/* Tokenizer whitespace. */
static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static uint8_t lower(uint8_t c)
{
	return is_alpha(c) ? (uint8_t)(c | 0x20) : c;
}

/* s[0..len) equals the lower-case literal lit, ignoring ASCII case. */
static int ci_eq(const uint8_t *s, const char *lit, size_t len)
{
	for (size_t k = 0; k < len; k++)
		if (lower(s[k]) != (uint8_t)lit[k])
			return 0;
	return 1;
}

/* Decode the character reference at s[i] == '&' within s[0..lim).
 * Returns the index after it and sets *cp, or 0 if there is none. In an
 * attribute value (attr) a legacy name without ';' followed by '=' or an
 * alphanumeric is not a reference (WHATWG). */
static size_t decode_ref(const uint8_t *s, size_t lim, size_t i, int attr,
			 uint32_t *cp)
{
	size_t j = i + 1;
	if (j >= lim)
		return 0;
	if (s[j] == '#') {
		int hex = 0;
		uint32_t v = 0;
		j++;
		if (j < lim && (s[j] | 0x20) == 'x') {
			hex = 1;
			j++;
		}
		size_t start = j;
		for (; j < lim; j++) {
			uint32_t d;
			if (is_digit(s[j]))
				d = s[j] - '0';
			else if (hex && is_hex(s[j]))
				d = (uint32_t)((s[j] | 0x20) - 'a' + 10);
			else
				break;
			v = v * (hex ? 16 : 10) + d;
			if (v > 0x10FFFF)
				v = 0x110000; /* saturate: stays invalid */
		}
		if (j == start)
			return 0;
		if (j < lim && s[j] == ';')
			j++;
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = 0xFFFD;
		else if (v >= 0x80 && v <= 0x9F && cp1252[v - 0x80] != 0)
			v = cp1252[v - 0x80];
		*cp = v;
		return j;
	}
	size_t k = 0;
	while (j + k < lim && k <= ENTITY_MAX && is_alnum(s[j + k]))
		k++;
	if (k == 0)
		return 0;
	if (k <= ENTITY_MAX && j + k < lim && s[j + k] == ';') {
		const struct entity *e = entity_find(s + j, k);
		if (e != NULL) {
			*cp = e->cp;
			return j + k + 1;
		}
	}
	for (size_t l = k < LEGACY_MAX ? k : LEGACY_MAX; l >= 2; l--) {
		const struct entity *e = entity_find(s + j, l);
		if (e == NULL || !e->legacy)
			continue;
		if (attr && j + l < lim && (s[j + l] == '=' ||
					    is_alnum(s[j + l])))
			return 0;
		*cp = e->cp;
		return j + l;
	}
	return 0;
}

/* ---- output ------------------------------------------------------------- */

enum { SEP_NONE, SEP_SPACE, SEP_LINE };

struct ctx {
	const uint8_t *s;
	size_t n;
	uint8_t *out;
	size_t len, cap;
	int pending;   /* separator owed before the next visible byte */
	int links;     /* collect link targets instead of text */
};

static void sep(struct ctx *c, int kind)
{
	if (kind > c->pending)
		c->pending = kind;
}

static void put(struct ctx *c, const uint8_t *b, size_t k)
{
	if (c->pending != SEP_NONE) {
		if (c->len > 0 && c->len < c->cap)
			c->out[c->len++] = c->pending == SEP_LINE ? '\n' : ' ';
		c->pending = SEP_NONE;
	}
	assert(c->len + k <= c->cap);
	if (k > c->cap - c->len) /* cannot happen; never write past cap */
		return;
	memcpy(c->out + c->len, b, k);
	c->len += k;
}

static size_t utf8_enc(uint32_t cp, uint8_t b[4])
{
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (uint8_t)(0xF0 | cp >> 18);
	b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
	b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
	b[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

static int invisible(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xAD ||
	       (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 ||
	       cp == 0xFEFF;
}

/* A decoded character of visible text. */
static void text_cp(struct ctx *c, uint32_t cp)
{
	uint8_t b[4];
	if (c->links)
		return;
	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
	    cp == '\f' || cp == 0xA0) {
		sep(c, SEP_SPACE);
		return;
	}
	if (invisible(cp))
		return;
	put(c, b, utf8_enc(cp, b));
}

/* Literal text s[i..lim) up to the next '<' or '&' if `markup`, else all
 * of it (rawtext). Returns the index where it stopped. */
static size_t text_run(struct ctx *c, size_t i, size_t lim, int markup)
{
	const uint8_t *s = c->s;
	if (c->links) {
		while (markup && i < lim && s[i] != '<' && s[i] != '&')
			i++;
		return markup ? i : lim;
	}
	while (i < lim) {
		uint8_t ch = s[i];
		size_t r = i;
		/* run of plain printable ASCII */
		while (r < lim && s[r] > 0x20 && s[r] < 0x7F &&
		       !(markup && (s[r] == '<' || s[r] == '&')))
			r++;
		if (r > i) {
			put(c, s + i, r - i);
			i = r;
			continue;
		}
		if (markup && (ch == '<' || ch == '&'))
			break;
		if (ch < 0x80) {
			if (is_ws(ch))
				sep(c, SEP_SPACE);
			/* other C0 controls, NUL and DEL are invisible */
			i++;
			continue;
		}
		/* UTF-8 invisibles and no-break space; other bytes as is */
		if (ch == 0xC2 && i + 1 < lim &&
		    (s[i + 1] == 0xA0 || s[i + 1] == 0xAD ||
		     (s[i + 1] >= 0x80 && s[i + 1] <= 0x9F))) {
			if (s[i + 1] == 0xA0)
				sep(c, SEP_SPACE);
			i += 2;
			continue;
		}
		if (i + 2 < lim &&
		    ((ch == 0xE2 && s[i + 1] == 0x80 && s[i + 2] >= 0x8B &&
		      s[i + 2] <= 0x8D) ||
		     (ch == 0xE2 && s[i + 1] == 0x81 && s[i + 2] == 0xA0) ||
		     (ch == 0xEF && s[i + 1] == 0xBB && s[i + 2] == 0xBF))) {
			i += 3;
			continue;
		}
		put(c, s + i, 1);
		i++;
	}
	return i;
}

/* Text with character references, s[i..lim), no tags (RCDATA). */
static void rcdata(struct ctx *c, size_t i, size_t lim)
{
	while (i < lim) {
		if (c->s[i] == '&') {
			uint32_t cp;
			size_t e = decode_ref(c->s, lim, i, 0, &cp);
			if (e != 0) {
				text_cp(c, cp);
				i = e;
			} else {
				text_cp(c, '&');
				i++;
			}
		} else if (c->s[i] == '<') {
			text_cp(c, '<');
			i++;
		} else {
			i = text_run(c, i, lim, 1);
		}
	}
}

/* ---- links -------------------------------------------------------------- */

static int is_link_attr(const uint8_t *s, size_t len)
{
	static const char *const names[] = {
		"href", "src", "action", "formaction", "background", "poster",
	};
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strlen(names[k]) == len && ci_eq(s, names[k], len))
			return 1;
	return 0;
}

/* Append the attribute value s[vs..ve) as one link line. */
static void emit_link(struct ctx *c, size_t vs, size_t ve)
{
	const uint8_t *s = c->s;
	while (vs < ve && is_ws(s[vs]))
		vs++;
	size_t start = c->len;
	for (size_t k = vs; k < ve;) {
		uint8_t b[4];
		size_t bl = 1;
		b[0] = s[k];
		if (s[k] == '&') {
			uint32_t cp;
			size_t e = decode_ref(s, ve, k, 1, &cp);
			if (e != 0) {
				bl = utf8_enc(cp, b);
				k = e;
			} else {
				k++;
			}
		} else {
			k++;
		}
		/* URL parsers drop tabs and newlines anywhere */
		if (bl == 1 && (b[0] == '\t' || b[0] == '\n' || b[0] == '\r'))
			continue;
		assert(c->len + bl <= c->cap);
		if (bl > c->cap - c->len)
			return;
		memcpy(c->out + c->len, b, bl);
		c->len += bl;
	}
	while (c->len > start && (c->out[c->len - 1] == ' ' ||
				  c->out[c->len - 1] == '\f'))
		c->len--;
	if (c->len > start && c->len < c->cap)
		c->out[c->len++] = '\n';
}

/* ---- tags --------------------------------------------------------------- */

enum {
	T_LINE = 1,      /* block: line break */
	T_SPACE = 2,     /* table cell: space */
	T_DROP = 4,      /* content dropped to the end tag */
	T_RCDATA = 8,    /* content is text with references, no tags */
	T_RAWTEXT = 16,  /* content is literal text */
	T_PLAIN = 32,    /* everything after is literal text */
};

struct tag {
	char name[11];
	uint8_t flags;
};

/* Sorted by name for bsearch. */
static const struct tag tags[] = {
	{"address", T_LINE}, {"article", T_LINE}, {"aside", T_LINE},
	{"blockquote", T_LINE}, {"body", T_LINE}, {"br", T_LINE},
	{"caption", T_LINE}, {"center", T_LINE}, {"dd", T_LINE},
	{"details", T_LINE}, {"dialog", T_LINE}, {"dir", T_LINE},
	{"div", T_LINE}, {"dl", T_LINE}, {"dt", T_LINE},
	{"fieldset", T_LINE}, {"figcaption", T_LINE}, {"figure", T_LINE},
	{"footer", T_LINE}, {"form", T_LINE}, {"frame", T_LINE},
	{"frameset", T_LINE}, {"h1", T_LINE}, {"h2", T_LINE},
	{"h3", T_LINE}, {"h4", T_LINE}, {"h5", T_LINE}, {"h6", T_LINE},
	{"head", T_LINE}, {"header", T_LINE}, {"hgroup", T_LINE},
	{"hr", T_LINE}, {"html", T_LINE}, {"iframe", T_LINE | T_DROP},
	{"legend", T_LINE}, {"li", T_LINE}, {"listing", T_LINE},
	{"main", T_LINE}, {"menu", T_LINE}, {"nav", T_LINE},
	{"noembed", T_DROP}, {"noframes", T_DROP}, {"ol", T_LINE},
	{"optgroup", T_LINE}, {"option", T_LINE}, {"p", T_LINE},
	{"plaintext", T_LINE | T_PLAIN}, {"pre", T_LINE},
	{"script", T_DROP}, {"section", T_LINE}, {"select", T_LINE},
	{"style", T_DROP}, {"summary", T_LINE}, {"table", T_LINE},
	{"tbody", T_LINE}, {"td", T_SPACE}, {"textarea", T_LINE | T_RCDATA},
	{"tfoot", T_LINE}, {"th", T_SPACE}, {"thead", T_LINE},
	{"title", T_LINE | T_RCDATA}, {"tr", T_LINE}, {"ul", T_LINE},
	{"xmp", T_LINE | T_RAWTEXT},
};

static int tag_cmp(const void *key, const void *elt)
{
	return strcmp(key, ((const struct tag *)elt)->name);
}

static unsigned tag_flags(const uint8_t *s, size_t len)
{
	char key[sizeof(tags[0].name)];
	if (len >= sizeof(key))
		return 0;
	for (size_t k = 0; k < len; k++)
		key[k] = (char)lower(s[k]);
	key[len] = '\0';
	const struct tag *t = bsearch(key, tags, sizeof(tags) / sizeof(tags[0]),
				      sizeof(tags[0]), tag_cmp);
	return t != NULL ? t->flags : 0;
}

/* Index after the next '>' at or after j, or n. */
static size_t bogus_comment(const uint8_t *s, size_t n, size_t j)
{
	const uint8_t *p = j < n ? memchr(s + j, '>', n - j) : NULL;
	return p != NULL ? (size_t)(p - s) + 1 : n;
}

/* j is just after "<!--". Returns the index after the comment. */
static size_t comment(const uint8_t *s, size_t n, size_t j)
{
	if (j < n && s[j] == '>')
		return j + 1;
	if (j + 1 < n && s[j] == '-' && s[j + 1] == '>')
		return j + 2;
	while (j < n) {
		const uint8_t *p = memchr(s + j, '-', n - j);
		if (p == NULL)
			return n;
		size_t k = (size_t)(p - s);
		if (k + 1 >= n || s[k + 1] != '-') {
			j = k + 1;
			continue;
		}
		size_t m = k + 2;
		while (m < n && s[m] == '-')
			m++;
		if (m < n && s[m] == '>')
			return m + 1;
		if (m + 1 < n && s[m] == '!' && s[m + 1] == '>')
			return m + 2;
		j = m;
	}
	return n;
}

/* Start of the end tag "</name" (any case, then whitespace, '/' or '>')
 * at or after j, or n. */
static size_t find_end_tag(const uint8_t *s, size_t n, size_t j,
			   const uint8_t *name, size_t len)
{
	while (j < n) {
		const uint8_t *p = memchr(s + j, '<', n - j);
		if (p == NULL)
			return n;
		size_t k = (size_t)(p - s);
		if (k + 2 + len < n && s[k + 1] == '/') {
			size_t e = k + 2 + len, m;
			for (m = 0; m < len; m++)
				if (lower(s[k + 2 + m]) != lower(name[m]))
					break;
			if (m == len && (is_ws(s[e]) || s[e] == '/' ||
					 s[e] == '>'))
				return k;
		}
		j = k + 1;
	}
	return n;
}

/* A start (end == 0) or end tag whose name begins at s[j]. Returns the
 * index after the tag and whatever content it swallows. */
static size_t tag(struct ctx *c, size_t j, int end)
{
	const uint8_t *s = c->s;
	size_t n = c->n, mark = c->len;
	size_t name = j;
	while (j < n && !is_ws(s[j]) && s[j] != '/' && s[j] != '>')
		j++;
	size_t namelen = j - name;
	for (;;) {
		while (j < n && (is_ws(s[j]) || s[j] == '/'))
			j++;
		if (j >= n)
			goto eof;
		if (s[j] == '>') {
			j++;
			break;
		}
		size_t an = j++;
		while (j < n && !is_ws(s[j]) && s[j] != '/' && s[j] != '>' &&
		       s[j] != '=')
			j++;
		size_t anlen = j - an;
		while (j < n && is_ws(s[j]))
			j++;
		if (j >= n || s[j] != '=')
			continue;
		j++;
		while (j < n && is_ws(s[j]))
			j++;
		if (j >= n)
			goto eof;
		size_t vs, ve;
		if (s[j] == '"' || s[j] == '\'') {
			const uint8_t *q = memchr(s + j + 1, s[j], n - j - 1);
			if (q == NULL)
				goto eof;
			vs = j + 1;
			ve = (size_t)(q - s);
			j = ve + 1;
		} else {
			vs = j;
			while (j < n && !is_ws(s[j]) && s[j] != '>')
				j++;
			ve = j;
		}
		if (c->links && !end && is_link_attr(s + an, anlen))
			emit_link(c, vs, ve);
	}

	unsigned fl = tag_flags(s + name, namelen);
	if (!c->links) {
		if (fl & T_LINE)
			sep(c, SEP_LINE);
		else if (fl & T_SPACE)
			sep(c, SEP_SPACE);
	}
	if (end || !(fl & (T_DROP | T_RCDATA | T_RAWTEXT | T_PLAIN)))
		return j;
	if (fl & T_PLAIN) {
		text_run(c, j, n, 0);
		return n;
	}
	size_t e = find_end_tag(s, n, j, s + name, namelen);
	if (fl & T_RCDATA)
		rcdata(c, j, e);
	else if (fl & T_RAWTEXT)
		text_run(c, j, e, 0);
	return e;
eof:
	/* a tag cut off by the end of input is dropped, links and all */
	c->len = mark;
	return n;
}

/* s[i] == '<'. Returns the index after the markup it starts. */
static size_t markup(struct ctx *c, size_t i)
{
	const uint8_t *s = c->s;
	size_t n = c->n;
	if (i + 1 < n) {
		uint8_t d = s[i + 1];
		if (is_alpha(d))
			return tag(c, i + 1, 0);
		if (d == '!') {
			if (i + 3 < n && s[i + 2] == '-' && s[i + 3] == '-')
				return comment(s, n, i + 4);
			if (n - i >= 9 && memcmp(s + i + 2, "[CDATA[", 7) == 0) {
				size_t j = i + 9, e = n;
				for (size_t k = j; k + 2 < n; k++)
					if (s[k] == ']' && s[k + 1] == ']' &&
					    s[k + 2] == '>') {
						e = k;
						break;
					}
				text_run(c, j, e, 0);
				return e == n ? n : e + 3;
			}
			return bogus_comment(s, n, i + 2);
		}
		if (d == '?')
			return bogus_comment(s, n, i + 1);
		if (d == '/') {
			if (i + 2 >= n) {
				text_cp(c, '<');
				text_cp(c, '/');
				return n;
			}
			if (is_alpha(s[i + 2]))
				return tag(c, i + 2, 1);
			if (s[i + 2] == '>')
				return i + 3;
			return bogus_comment(s, n, i + 2);
		}
	}
	text_cp(c, '<');
	return i + 1;
}

static int render(const uint8_t *in, size_t n, struct scan_arena *a,
		  int links, uint8_t **out, size_t *outlen)
{
	if (n == SIZE_MAX)
		return -ENOMEM;
	struct ctx c = {
		.s = in, .n = n, .cap = n, .links = links,
	};
	c.out = scan_arena_alloc(a, n + 1);
	if (c.out == NULL)
		return -ENOMEM;
	size_t i = 0, check = SCAN_DEADLINE_STRIDE;
	while (i < n) {
		if (i >= check) {
			if (scan_deadline_check())
				break; /* the pipeline drops the result */
			check = i + SCAN_DEADLINE_STRIDE;
		}
		uint8_t ch = in[i];
		if (ch == '<') {
			i = markup(&c, i);
		} else if (ch == '&') {
			uint32_t cp;
			size_t e = decode_ref(in, n, i, 0, &cp);
			if (e != 0) {
				text_cp(&c, cp);
				i = e;
			} else {
				text_cp(&c, '&');
				i++;
			}
		} else {
			i = text_run(&c, i, n, 1);
		}
	}
	c.out[c.len] = '\0';
	scan_arena_shrink_last(a, c.out, c.len + 1);
	*out = c.out;
	*outlen = c.len;
	return 0;
}

int scan_html_to_text(const uint8_t *in, size_t n, struct scan_arena *a,
		      uint8_t **out, size_t *outlen)
{
	return render(in, n, a, 0, out, outlen);
}

int scan_html_links(const uint8_t *in, size_t n, struct scan_arena *a,
		    uint8_t **out, size_t *outlen)
{
	return render(in, n, a, 1, out, outlen);
}

/* ---- detection ---------------------------------------------------------- */

#define DETECT_WINDOW 4096

/* s[0..lim) starts with lit (lower case, any case in s) followed by a
 * byte that ends a tag name. */
static int tag_at(const uint8_t *s, size_t lim, const char *lit)
{
	size_t l = strlen(lit);
	if (lim <= l || !ci_eq(s, lit, l))
		return 0;
	return is_ws(s[l]) || s[l] == '>' || s[l] == '/';
}

int scan_html_detect(const uint8_t *d, size_t n)
{
	/* WHATWG MIME sniffing, "identifying a resource with an unknown
	 * MIME type", the HTML patterns. */
	static const char *const lead[] = {
		"<!doctype html", "<html", "<head", "<script", "<iframe",
		"<h1", "<div", "<font", "<table", "<a", "<style", "<title",
		"<b", "<body", "<br", "<p", "<!--",
	};
	static const char *const common[] = {
		"a", "b", "i", "u", "p", "br", "hr", "div", "span", "font",
		"table", "tr", "td", "img", "li", "ul", "ol", "center",
		"strong", "em", "h1", "h2", "h3", "h4", "head", "meta",
		"style", "script", "title", "html", "body",
	};
	size_t lim = n < DETECT_WINDOW ? n : DETECT_WINDOW, i = 0;
	if (lim >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF)
		i = 3;
	while (i < lim && is_ws(d[i]))
		i++;
	for (size_t k = 0; k < sizeof(lead) / sizeof(lead[0]); k++)
		if (tag_at(d + i, lim - i, lead[k]))
			return 1;
	unsigned seen = 0;
	for (; i < lim; i++) {
		if (d[i] != '<')
			continue;
		if (tag_at(d + i, lim - i, "<html") ||
		    tag_at(d + i, lim - i, "<body") ||
		    tag_at(d + i, lim - i, "<!doctype html"))
			return 1;
		size_t j = i + 1;
		if (j < lim && d[j] == '/')
			j++;
		if (j >= lim || !is_alpha(d[j]))
			continue;
		for (size_t k = 0; k < sizeof(common) / sizeof(common[0]); k++)
			if (tag_at(d + j, lim - j, common[k])) {
				if (++seen >= 3)
					return 1;
				break;
			}
	}
	return 0;
}
