/* scan/envelope.c - an envelope from the headers; see envelope.h. */
#include "scan/envelope.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "scan/arena.h"
#include "scan/mime.h"

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Split an address-list header value (decoded) into addr-specs: the text
 * inside <...> when present, else the bare element if it holds an '@'.
 * Elements are separated by ',' outside quotes and angle brackets. */
static int collect(const char *s, int sender, struct scan_arena *a,
		   struct scan_envelope *env, const char **rcpt,
		   size_t maxrcpt)
{
	while (*s != '\0') {
		const char *start = s, *lt = NULL, *gt = NULL;
		int quoted = 0;
		for (; *s != '\0'; s++) {
			if (*s == '"')
				quoted = !quoted;
			else if (!quoted && *s == '<' && lt == NULL)
				lt = s;
			else if (!quoted && *s == '>' && lt != NULL && gt == NULL)
				gt = s;
			else if (!quoted && *s == ',' && (lt == NULL || gt != NULL))
				break;
		}
		const char *b = start, *e = s;
		if (lt != NULL && gt != NULL) {
			b = lt + 1;
			e = gt;
		}
		while (b < e && is_space(*b))
			b++;
		while (e > b && is_space(e[-1]))
			e--;
		if (e > b && memchr(b, '@', (size_t)(e - b)) != NULL) {
			char *addr = scan_arena_strndup(a, b, (size_t)(e - b));
			if (addr == NULL)
				return -ENOMEM;
			if (sender) {
				if (env->mail_from == NULL)
					env->mail_from = addr;
			} else if (env->nrcpt < maxrcpt) {
				rcpt[env->nrcpt++] = addr;
			}
		}
		if (*s == ',')
			s++;
	}
	return 0;
}

int scan_envelope_from_headers(const struct mime_part *root,
			       struct scan_arena *a, struct scan_envelope *env,
			       const char **rcpt, size_t maxrcpt)
{
	int rc = 0;
	memset(env, 0, sizeof(*env));
	env->rcpt_to = rcpt;
	for (unsigned i = 0; i < root->nheaders && rc == 0; i++) {
		const struct mime_header *h = &root->headers[i];
		int from = h->name_len == 4 && strncasecmp(h->name, "from", 4) == 0;
		int to = h->name_len == 2 && (strncasecmp(h->name, "to", 2) == 0 ||
					      strncasecmp(h->name, "cc", 2) == 0);
		if (!from && !to)
			continue;
		char *val = mime_header_decode(h->value, h->value_len, a);
		rc = val != NULL ? collect(val, from, a, env, rcpt, maxrcpt)
				 : -ENOMEM;
	}
	if (env->mail_from == NULL)
		env->mail_from = "";
	return rc;
}
