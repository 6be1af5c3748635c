/* tests/fuzz/fuzz_conf.c - conf/conf.c and scan/policy_conf.c on arbitrary
 * bytes; a config that loads is also run through the policy engine. */
#include "conf/conf.h"
#include "scan/policy.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every typed getter on every node: none may crash whatever it is given. */
static void walk(const struct conf_node *n, unsigned depth)
{
	char err[256];
	uint64_t u;
	long long ll;
	bool b;
	const char *s;
	(void)conf_get_size(n, "x", 0, UINT64_MAX, &u, err, sizeof(err));
	(void)conf_get_duration(n, "x", 0, UINT64_MAX, &u, err, sizeof(err));
	(void)conf_get_int(n, "x", -5, 5, &ll, err, sizeof(err));
	(void)conf_get_bool(n, "x", &b, err, sizeof(err));
	(void)conf_get_string(n, "x", false, &s, err, sizeof(err));
	if (conf_check_strlist(n, "x", err, sizeof(err)) == 0)
		for (size_t i = 0; i < conf_list_len(n); i++)
			(void)conf_scalar(conf_list_at(n, i));
	static const char *const keys[] = {"a", "policies", "routes", NULL};
	(void)conf_check_map(n, "x", keys, err, sizeof(err));
	for (size_t i = 0; i < conf_len(n); i++) {
		if (conf_kind(n) == CONF_MAP) {
			(void)conf_map_get(n, conf_map_key(n, i));
			walk(conf_map_value(n, i), depth + 1);
		} else {
			walk(conf_seq_at(n, i), depth + 1);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct conf_doc *d = NULL;
	if (conf_load_string("fuzz.conf", (const char *)data, size, &d, err,
			     sizeof(err)) < 0)
		return 0;
	walk(conf_root(d), 0);
	struct scan_config *c = NULL;
	if (scan_config_from_conf(d, &c, err, sizeof(err)) == 0) {
		static const char *const r1[] = {"bob@example.net"};
		static const char *const r2[] = {"x@ext.example",
						 "bob@example.net"};
		static const struct scan_envelope envs[] = {
			{.mail_from = "x@ext.example", .rcpt_to = r1,
			 .nrcpt = 1, .client_addr = "192.0.2.7"},
			{.mail_from = "bob@example.net", .rcpt_to = r2,
			 .nrcpt = 2, .client_addr = "2001:db8::1"},
			{.mail_from = "", .rcpt_to = r1, .nrcpt = 1},
		};
		struct scan_part_info parts[3] = {
			{.id = 0, .content_type = "multipart/mixed"},
			{.id = 1, .content_type = "text/plain",
			 .filename = "a.pdf.exe", .true_type = "pe",
			 .size = 100000000},
			{.id = 2, .filename = "b\r\n.js. ", .size = 5},
		};
		static struct scan_verdict v;
		static char explain[8192];
		for (size_t e = 0; e < 3; e++) {
			scan_verdict_init(&v, explain, sizeof(explain));
			scan_verdict_add(&v, SCAN_F_VIRUS, 2, "V", NULL);
			scan_verdict_add(&v, SCAN_F_CONTENT, 1,
					 "confidential-leak", NULL);
			scan_verdict_add(&v, SCAN_F_LIMIT, -1, "l", NULL);
			scan_verdict_add(&v, SCAN_F_MALFORMED, 9, "m", NULL);
			struct scan_policy_input in = {
				.message_size = 1u << 30, .parts = parts,
				.nparts = 3, .keyword_score = 7,
				.subject = "s%SUBJECT%\n"};
			scan_policy_apply(c, &envs[e], &in, &v);
			char why[64];
			(void)scan_spam_list_score(c, &envs[e], why,
						   sizeof(why));
		}
		const struct scan_rule_def *defs;
		size_t n;
		scan_config_rules(c, &defs, &n);
		for (size_t i = 0; i < n; i++)
			(void)scan_config_rule_class(c, defs[i].name);
	}
	scan_config_free(c);
	conf_free(d);
	return 0;
}
