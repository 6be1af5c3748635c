/* tests/unit/test_envelope.c - scan/envelope.c */
#include "scan/envelope.h"
#include "scan/mime.h"
#include "tests/unit/check.h"

#include <string.h>

static const struct {
	const char *headers;
	const char *from;
	const char *rcpts; /* space-separated */
} rows[] = {
	{"From: a@example.org\r\nTo: b@example.net\r\n", "a@example.org",
	 "b@example.net"},
	{"From: \"Doe, Jane\" <jane@example.org>\r\nTo: \"x, y\" <x@example.net>,"
	 " plain@example.net\r\nCc: <c@example.net>\r\n", "jane@example.org",
	 "x@example.net plain@example.net c@example.net"},
	{"To: undisclosed-recipients:;\r\n", "", ""},
	{"From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\r\nTO: B@Example.NET\r\n",
	 "j@example.org", "B@Example.NET"},
	{"From: first@example.org, second@example.org\r\n", "first@example.org",
	 ""},
	{"Subject: no addresses\r\n", "", ""},
	{"From: a@example.org\r\nTo: b@example.net,\r\n c@example.net\r\n",
	 "a@example.org", "b@example.net c@example.net"},
};

static void test_rows(void)
{
	struct scan_arena *a = scan_arena_create(1u << 20);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s\r\nbody\r\n", rows[i].headers);
		struct scan_verdict v;
		scan_verdict_init(&v, NULL, 0);
		struct mime_message m;
		scan_arena_reset(a);
		CHECK_EQ_INT(mime_parse((const uint8_t *)msg, strlen(msg), NULL,
					a, &v, &m), 0);
		struct scan_envelope env;
		const char *rcpt[2];
		CHECK_EQ_INT(scan_envelope_from_headers(m.root, a, &env, rcpt,
							2), 0);
		CHECK_EQ_STR(env.mail_from, rows[i].from);
		char got[256] = "";
		for (size_t j = 0; j < env.nrcpt; j++) {
			if (j > 0)
				strcat(got, " ");
			strcat(got, env.rcpt_to[j]);
		}
		/* At most 2 kept: compare with the first two expected. */
		char want[256];
		snprintf(want, sizeof(want), "%s", rows[i].rcpts);
		char *third = strchr(want, ' ');
		if (third != NULL && (third = strchr(third + 1, ' ')) != NULL)
			*third = '\0';
		CHECK_MSG(strcmp(got, want) == 0, "row %zu: got '%s' want '%s'",
			  i, got, want);
	}
	scan_arena_free(a);
}

int main(void)
{
	RUN(test_rows);
	return CHECK_DONE();
}
