/* tests/unit/test_policy.c - scan/policy_conf.c and scan/policy.c */
#include "scan/policy.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SHIPPED SLUICE_SRCDIR "/config/sluice.conf"

static struct scan_config *cfg_from(const char *yaml, char *err,
				    size_t errsz, int *rc)
{
	struct conf_doc *d;
	struct scan_config *c = NULL;
	*rc = conf_load_string("t.conf", yaml, strlen(yaml), &d, err, errsz);
	if (*rc < 0)
		return NULL;
	*rc = scan_config_from_conf(d, &c, err, errsz);
	conf_free(d);
	return c;
}

static struct scan_config *shipped(void)
{
	char err[512];
	struct scan_config *c = NULL;
	int rc = scan_config_load(SHIPPED, &c, err, sizeof(err));
	CHECK_MSG(rc == 0, "%s", err);
	return c;
}

/* ---- Configuration errors ---------------------------------------------- */

static const struct {
	const char *yaml;
	const char *err;
} bad_rows[] = {
	{"polices: {}\n", "t.conf:1: unknown key 'polices' in the "
	 "configuration; did you mean 'policies'?"},
	{"limits:\n  mesage_size: 1 MiB\n", "t.conf:2: unknown key "
	 "'mesage_size' in limits; did you mean 'message_size'?"},
	{"limits:\n  message_size: 20 XB\n", "t.conf:2: limits.message_size: "
	 "expected a size"},
	{"limits:\n  mime_depth: 0\n", "t.conf:2: limits.mime_depth: 0 is out "
	 "of range"},
	{"routes:\n  - name: r\n    policy: inbund\npolicies:\n  inbound: []\n",
	 "t.conf:3: route 'r': unknown policy 'inbund'; did you mean "
	 "'inbound'?"},
	{"routes:\n  - name: r\n    policy: default\n    to: ['@staff']\n",
	 "t.conf:4: route to: unknown address group 'staff'"},
	{"routes:\n  - name: default\n    policy: default\n",
	 "t.conf:2: route name 'default' is reserved"},
	{"routes:\n  - name: r\n    direction: inbound\n    policy: default\n",
	 "t.conf:3: route 'r': direction must be incoming, outgoing or any"},
	{"routes:\n  - name: r\n    policy: default\n  - name: r\n"
	 "    policy: default\n", "t.conf:4: route 'r' is already defined at "
	 "line 2"},
	{"address_groups:\n  a: [x@example.net]\n  b: ['@a']\n",
	 "t.conf:3: address_groups.b: '@a': address groups cannot be used "
	 "here"},
	{"internal_domains: [bob@example.net]\n", "t.conf:1: "
	 "internal_domains: 'bob@example.net' is an address"},
	{"policies:\n  p:\n    - type: macros\n", "t.conf:3: policy 'p': "
	 "unknown filter type 'macros'"},
	{"policies:\n  p:\n    - action: reject\n", "t.conf:3: policy 'p': "
	 "filter without 'type'"},
	{"policies:\n  p:\n    - type: virus\n      action: reject\n"
	 "      tag: x\n", "t.conf:5: policy 'p' virus filter: 'tag' is set "
	 "but the action does not include tag"},
	{"policies:\n  p:\n    - type: virus\n      action: [reject, "
	 "quarantine]\n", "t.conf:4: policy 'p' virus filter: 'quarantine' "
	 "and another final action"},
	{"policies:\n  p:\n    - type: spam\n      action: strip\n",
	 "t.conf:4: policy 'p' spam filter: 'strip' removes attachments"},
	{"policies:\n  p:\n    - type: virus\n      action: bounce\n",
	 "t.conf:4: policy 'p' virus filter: unknown action 'bounce'"},
	{"policies:\n  p:\n    - type: virus\n      acton: reject\n",
	 "t.conf:4: unknown key 'acton' in policy 'p' virus filter; did you "
	 "mean 'action'?"},
	{"policies:\n  p:\n    - type: size\n      extensions: [exe]\n",
	 "t.conf:4: unknown key 'extensions' in policy 'p' size filter"},
	{"policies:\n  p:\n    - type: attachment\n      extensions: "
	 "[pdf.exe]\n", "t.conf:4: extensions: 'pdf.exe': write one "
	 "extension"},
	{"policies:\n  p:\n    - type: virus\n      action: notify\n"
	 "      template: nope\n", "t.conf:5: template 'nope' is not defined"},
	{"policies:\n  p:\n    - type: virus\n      action: [reject, notify]\n"
	 "      notify: [postmaster]\n", "t.conf:5: notify: unknown "
	 "'postmaster'"},
	{"policies:\n  p:\n    - type: spam\n      action: header\n"
	 "      header: 'no colon here'\n", "t.conf:5: header: expected one "
	 "line 'Name: value'"},
	{"policies:\n  p:\n    - type: content\n      classes:\n"
	 "        x: {area: q}\n", "t.conf:5: policy 'p' content filter class "
	 "'x': 'action' is missing"},
	{"templates:\n  t1: 'file %FILNAME% removed'\n", "t.conf:2: "
	 "templates.t1: unknown variable %FILNAME%"},
	{"content_rules:\n  - keyword: x\n", "t.conf:2: content rule: 'name' "
	 "is missing"},
	{"content_rules:\n  - name: a\n    keyword: x\n    regex: y\n",
	 "t.conf:2: content rule: give exactly one of 'keyword' or 'regex'"},
	{"content_rules:\n  - name: a\n    keyword: x\n  - name: a\n"
	 "    keyword: y\n", "t.conf:4: content rule 'a' is already defined "
	 "at line 2"},
	{"content_rules:\n  - name: 'a b'\n    keyword: x\n", "t.conf:2: "
	 "content rule name 'a b': use only letters"},
	{"content_rules:\n  - name: a\n    keyword: x\n    where: [bdy]\n",
	 "t.conf:4: content rule: unknown place 'bdy'"},
	{"content_rules:\n  - name: a\n    keyword: x\n    caseless: maybe\n",
	 "t.conf:4: content rule: expected yes or no"},
	/* keyword expressions */
	{"content_rules:\n  - name: a\n    not: [x]\n", "t.conf:2: content "
	 "rule 'a': needs 'all' or 'any' terms ('not' alone is not a rule"},
	{"content_rules:\n  - name: a\n    keyword: x\n    all: [y]\n",
	 "t.conf:2: content rule 'a': give either 'keyword'/'regex' or "
	 "'all'/'any'/'not' terms, not both"},
	{"content_rules:\n  - name: a\n    all: [a,b,c,d,e,f,g,h,i,j,k,l,m,n,"
	 "o,p]\n    any: [a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p]\n    not: [q]\n",
	 "t.conf:2: content rule 'a': 33 terms; at most 32 per rule"},
	{"content_rules:\n  - name: a\n    all: [x]\n    min: 1\n", "t.conf:4: "
	 "content rule 'a': 'min' counts 'any' terms; there are none"},
	{"content_rules:\n  - name: a\n    any: [x, y]\n    min: 3\n",
	 "t.conf:4: content rule min: 3 is out of range"},
	{"content_rules:\n  - name: a\n    all: [{keyword: x, regex: y}]\n",
	 "t.conf:3: content rule a: all term: give exactly one of 'keyword' "
	 "or 'regex'"},
	{"content_rules:\n  - name: a\n    any: [{keyword: x, wrd: yes}]\n",
	 "t.conf:3: unknown key 'wrd' in content rule a: any term"},
	{"content_rules:\n  - name: a\n    all: x\n", "t.conf:3: content "
	 "rule 'a': 'all' expects a non-empty list of terms"},
	{"content_rules:\n  - name: a\n    all: [[x]]\n", "t.conf:3: content "
	 "rule a: all term: expected a keyword or a map"},
	{"spam:\n  keywords:\n    - keyword: x\n    - keyword: x\n",
	 "t.conf:4: spam keyword 'x' is already defined at line 3"},
	{"spam:\n  keywords:\n    - {keyword: x, weight: 5000}\n",
	 "t.conf:3: spam keyword weight: 5000 is out of range"},
	{"spam:\n  lists:\n    - name: l\n      clients: [192.0.2.1/24]\n"
	 "      score: 1\n", "t.conf:4: spam list clients: '192.0.2.1/24' has "
	 "host bits set"},
	{"spam:\n  lists:\n    - name: l\n      clients: [192.0.2.0/33]\n"
	 "      score: 1\n", "t.conf:4: spam list clients: '192.0.2.0/33' is "
	 "not an address or CIDR"},
	{"spam:\n  lists:\n    - name: l\n      senders: ['*']\n"
	 "      score: lots\n", "t.conf:5: spam list score: expected a number "
	 "from -10000 to 10000, 'reject' or 'bypass'"},
	{"spam:\n  lists:\n    - name: l\n      score: 1\n", "t.conf:3: spam "
	 "list 'l': give 'senders'"},
	{"spam:\n  threshold: 0\n", "t.conf:2: spam.threshold: 0 is out of "
	 "range"},
	{"signatures: {a: b}\n", "t.conf:1: signatures: expected a string or "
	 "a list of strings, found a map"},
	{"- a\n- b\n", "t.conf:1: the configuration: expected a map"},
};

static void test_config_errors(void)
{
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		char err[512] = "";
		int rc;
		struct scan_config *c = cfg_from(bad_rows[i].yaml, err,
						 sizeof(err), &rc);
		CHECK_MSG(rc == -EINVAL && c == NULL, "row %zu: rc %d", i, rc);
		CHECK_MSG(strstr(err, bad_rows[i].err) != NULL,
			  "row %zu: '%s' lacks '%s'", i, err, bad_rows[i].err);
		scan_config_free(c);
	}
	scan_config_free(NULL);
}

/* Keyword expressions: terms in all, any, not order; flags from the rule
 * unless a map term overrides them. */
static void test_keyword_expression(void)
{
	static const char yaml[] =
		"content_rules:\n"
		"  - name: kx\n"
		"    all: [\"invoice\", {regex: 'IBAN \\d+', caseless: no}]\n"
		"    any: [wire, {keyword: bank, word: no}]\n"
		"    min: 2\n"
		"    not: [unsubscribe]\n"
		"    word: yes\n"
		"    where: [subject, body]\n"
		"    class: fraud\n";
	char err[512] = "";
	int rc;
	struct scan_config *c = cfg_from(yaml, err, sizeof(err), &rc);
	CHECK_MSG(rc == 0, "%s", err);
	if (c == NULL)
		return;
	const struct scan_rule_def *d;
	size_t n;
	scan_config_rules(c, &d, &n);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(d[0].kind, SCAN_RULE_CONTENT);
	CHECK(d[0].pattern == NULL);
	CHECK_EQ_INT(d[0].nterms, 5);
	CHECK_EQ_INT(d[0].min_any, 2);
	CHECK_EQ_INT(d[0].where, SCAN_WHERE_SUBJECT | SCAN_WHERE_BODY);
	CHECK_EQ_INT(d[0].line, 2);
	static const struct {
		enum scan_term_role role;
		const char *pat;
		unsigned flags;
	} want[] = {
		{SCAN_TERM_ALL, "invoice", SCAN_RULE_CASELESS | SCAN_RULE_WORD},
		{SCAN_TERM_ALL, "IBAN \\d+", SCAN_RULE_WORD | SCAN_RULE_REGEX},
		{SCAN_TERM_ANY, "wire", SCAN_RULE_CASELESS | SCAN_RULE_WORD},
		{SCAN_TERM_ANY, "bank", SCAN_RULE_CASELESS},
		{SCAN_TERM_NOT, "unsubscribe",
		 SCAN_RULE_CASELESS | SCAN_RULE_WORD},
	};
	for (size_t i = 0; i < 5 && i < d[0].nterms; i++) {
		CHECK_EQ_INT(d[0].terms[i].role, want[i].role);
		CHECK_EQ_STR(d[0].terms[i].pattern, want[i].pat);
		CHECK_MSG(d[0].terms[i].flags == want[i].flags,
			  "term %zu: flags %#x", i, d[0].terms[i].flags);
	}
	CHECK_EQ_STR(scan_config_rule_class(c, "kx"), "fraud");
	scan_config_free(c);
}

/* ---- The shipped configuration ---------------------------------------- */

static void test_shipped_config(void)
{
	struct scan_config *c = shipped();
	if (c == NULL)
		return;
	const struct scan_limits *l = scan_config_limits(c);
	CHECK_EQ_INT(l->message_size, 20u << 20);
	CHECK_EQ_INT(l->attachment_size, 10u << 20);
	CHECK_EQ_INT(l->attachments, 20);
	CHECK_EQ_INT(l->archive_depth, 20);
	CHECK_EQ_INT(l->decompressed_bytes, 128u << 20);
	CHECK_EQ_INT(l->findings, 20);
	CHECK_EQ_INT(l->header_bytes, 1u << 20);
	CHECK_EQ_INT(l->mime_depth, 20);
	CHECK_EQ_INT(scan_config_spam_threshold(c), 5);

	const char *const *sigs = scan_config_signatures(c);
	CHECK_EQ_STR(sigs[0], SLUICE_SRCDIR "/config/signatures");
	CHECK(sigs[1] == NULL);
	CHECK_EQ_STR(scan_config_cache_dir(c), SLUICE_SRCDIR "/config/.cache");

	const struct scan_rule_def *d;
	size_t n, ncontent = 0, nspam = 0;
	scan_config_rules(c, &d, &n);
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ_STR(d[i].file, SHIPPED);
		CHECK(d[i].line > 0);
		CHECK(d[i].nterms > 0 ? d[i].pattern == NULL
				      : d[i].pattern != NULL &&
						d[i].pattern[0] != '\0');
		if (d[i].kind == SCAN_RULE_CONTENT)
			ncontent++;
		else if (d[i].kind == SCAN_RULE_SPAM)
			nspam++;
	}
	CHECK_EQ_INT(ncontent, 4);
	CHECK(nspam >= 12);
	/* the keyword expression example */
	CHECK_EQ_STR(d[3].name, "invoice-fraud");
	CHECK_EQ_STR(scan_config_rule_class(c, "invoice-fraud"), "fraud");
	CHECK_EQ_INT(d[3].nterms, 7);
	CHECK_EQ_INT(d[3].min_any, 0);
	CHECK_EQ_STR(d[0].name, "confidential-leak");
	CHECK_EQ_STR(d[0].class_name, "confidential");
	CHECK_EQ_INT(d[0].where, SCAN_WHERE_BODY | SCAN_WHERE_ATTACHMENT);
	CHECK_EQ_INT(d[0].flags, SCAN_RULE_CASELESS);
	CHECK_EQ_INT(d[1].flags, SCAN_RULE_CASELESS | SCAN_RULE_REGEX);
	CHECK_EQ_STR(scan_config_rule_class(c, "phish-mailbox-full"),
		     "phishing");
	CHECK(scan_config_rule_class(c, "no-such-rule") == NULL);
	CHECK(scan_config_is_internal(c, "example.net"));
	CHECK(scan_config_is_internal(c, "mail.EXAMPLE.net"));
	CHECK(!scan_config_is_internal(c, "example.net.evil.example"));
	CHECK(!scan_config_is_internal(c, "badexample.net"));
	scan_config_free(c);
}

static void test_defaults_without_config(void)
{
	char err[512];
	int rc;
	struct scan_config *c = cfg_from("", err, sizeof(err), &rc);
	CHECK_MSG(rc == 0, "%s", err);
	if (c == NULL)
		return;
	CHECK_EQ_INT(scan_config_limits(c)->message_size, 20u << 20);
	CHECK_EQ_INT(scan_config_limits(c)->mime_parts, 1000);
	CHECK(scan_config_signatures(c)[0] == NULL);
	CHECK_EQ_STR(scan_config_cache_dir(c), ".cache");
	const struct scan_route *r = scan_policy_select(c, NULL);
	CHECK_EQ_STR(scan_route_name(r), "default");
	CHECK_EQ_STR(scan_route_policy(r), "default");
	scan_config_free(c);
}

/* ---- Route selection --------------------------------------------------- */

static const char route_conf[] =
	"internal_domains: [example.net, '*.example.net']\n"
	"address_groups:\n"
	"  execs: [ceo@example.net, 'cfo@*']\n"
	"routes:\n"
	"  - name: from-partner\n"
	"    from: ['*@partner.example.org']\n"
	"    to: ['@execs']\n"
	"    policy: p1\n"
	"  - name: out\n"
	"    direction: outgoing\n"
	"    policy: p2\n"
	"  - name: in\n"
	"    direction: incoming\n"
	"    policy: p3\n"
	"  - name: bounces\n"
	"    from: ['<>']\n"
	"    policy: p1\n"
	"  - name: shop\n"
	"    to: ['*.shop.example', 'orders@*']\n"
	"    policy: p1\n"
	"policies:\n  p1: []\n  p2: []\n  p3: []\n";

static const struct {
	const char *from;
	const char *rcpt[3];
	const char *route;
} route_rows[] = {
	{"a@partner.example.org", {"ceo@example.net"}, "from-partner"},
	{"a@partner.example.org", {"CEO@Example.Net", "cfo@example.net"},
	 "from-partner"},
	/* every recipient must match `to` */
	{"a@partner.example.org", {"ceo@example.net", "bob@example.net"}, "in"},
	{"bob@example.net", {"x@gmail.example"}, "out"},
	{"bob@sub.example.net", {"x@ext.example", "y@example.net"}, "out"},
	/* internal to internal is incoming (inbound checks apply) */
	{"bob@example.net", {"alice@example.net"}, "in"},
	{"x@ext.example", {"bob@EXAMPLE.NET"}, "in"},
	/* forged internal sender to us: still incoming */
	{"ceo@example.net", {"bob@example.net"}, "in"},
	/* mixed recipients from outside: neither direction */
	{"x@ext.example", {"bob@example.net", "y@other.example"}, "default"},
	{"", {"x@ext.example"}, "bounces"},
	{"", {"bob@example.net"}, "in"},
	{"x@ext.example", {NULL}, "default"},
	/* no suffix confusion: notexample.net is not example.net */
	{"x@notexample.net", {"y@example.net.evil.example"}, "default"},
	{"x@ext.example", {"a@eu.shop.example", "orders@x.example"}, "shop"},
	{"x@ext.example", {"a@shop.example"}, "default"},
	{"x@ext.example", {"postmaster"}, "default"},
};

static void test_route_selection(void)
{
	char err[512];
	int rc;
	struct scan_config *c = cfg_from(route_conf, err, sizeof(err), &rc);
	CHECK_MSG(rc == 0, "%s", err);
	if (c == NULL)
		return;
	for (size_t i = 0; i < sizeof(route_rows) / sizeof(route_rows[0]);
	     i++) {
		size_t n = 0;
		while (n < 3 && route_rows[i].rcpt[n] != NULL)
			n++;
		struct scan_envelope env = {.mail_from = route_rows[i].from,
					    .rcpt_to = route_rows[i].rcpt,
					    .nrcpt = n};
		const struct scan_route *r = scan_policy_select(c, &env);
		CHECK_MSG(strcmp(scan_route_name(r), route_rows[i].route) == 0,
			  "row %zu: route %s, want %s", i, scan_route_name(r),
			  route_rows[i].route);
	}
	scan_config_free(c);
}

/* ---- Policy application ------------------------------------------------- */

struct pcase {
	const char *name;
	const char *from;
	const char *rcpt;
	const char *client;
	uint64_t size;
	int keywords;
	const char *subject;
	/* findings present before policy: kind, part, name ("" ends) */
	struct {
		enum scan_finding_kind kind;
		int part;
		const char *name;
	} f[3];
	/* one named part besides the text body (id 1); id 2 */
	const char *filename;
	const char *true_type;
	uint64_t part_size;
	/* expected */
	enum scan_disposition disp;
	enum scan_class cls;
	const char *route;
	const char *reason;     /* exact */
	const char *area;       /* quarantine area or NULL */
	const char *edits;      /* "kind:part:text|..." exact */
};

#define IN_FROM "x@ext.example"
#define IN_RCPT "bob@example.net"

static const struct pcase shipped_cases[] = {
	{.name = "clean", .from = IN_FROM, .rcpt = IN_RCPT, .size = 1000,
	 .filename = "report.pdf", .true_type = "pdf", .part_size = 5000,
	 .disp = SCAN_DELIVER, .cls = SCAN_CLEAN, .route = "incoming",
	 .reason = "", .edits = ""},
	{.name = "virus", .from = IN_FROM, .rcpt = IN_RCPT, .size = 1000,
	 .f = {{SCAN_F_VIRUS, 2, "Sluice.Test.EICAR"}},
	 .filename = "eicar.com", .true_type = "text", .part_size = 68,
	 .disp = SCAN_REJECT, .cls = SCAN_VIRUS, .route = "incoming",
	 .reason = "virus Sluice.Test.EICAR found in part 2 (eicar.com)",
	 .edits = ""},
	{.name = "double extension", .from = IN_FROM, .rcpt = IN_RCPT,
	 .size = 1000, .filename = "invoice.pdf.exe", .true_type = "binary",
	 .part_size = 100, .disp = SCAN_DELIVER, .cls = SCAN_ATTACHMENT,
	 .route = "incoming",
	 .reason = "attachment invoice.pdf.exe blocked (extension:exe)",
	 .edits = "strip:2:The attachment \"invoice.pdf.exe\" was removed by "
		  "the mail gateway (extension:exe).|header:-1:"
		  "X-Sluice-Attachment-Removed: extension:exe|"},
	{.name = "extension case and trailing dot", .from = IN_FROM,
	 .rcpt = IN_RCPT, .size = 1000, .filename = "C:\\tmp\\RUN.Js. ",
	 .part_size = 100, .disp = SCAN_DELIVER, .cls = SCAN_ATTACHMENT,
	 .route = "incoming",
	 .reason = "attachment C:\\tmp\\RUN.Js.  blocked (extension:js)",
	 .edits = "strip:2:The attachment \"C:\\tmp\\RUN.Js. \" was removed "
		  "by the mail gateway (extension:js).|header:-1:"
		  "X-Sluice-Attachment-Removed: extension:js|"},
	{.name = "true type under a harmless name", .from = IN_FROM,
	 .rcpt = IN_RCPT, .size = 1000, .filename = "report.pdf",
	 .true_type = "pe", .part_size = 100, .disp = SCAN_DELIVER,
	 .cls = SCAN_ATTACHMENT, .route = "incoming",
	 .reason = "attachment report.pdf blocked (type:pe)",
	 .edits = "strip:2:The attachment \"report.pdf\" was removed by the "
		  "mail gateway (type:pe).|header:-1:"
		  "X-Sluice-Attachment-Removed: type:pe|"},
	{.name = "name pattern", .from = IN_FROM, .rcpt = IN_RCPT,
	 .size = 1000, .filename = "Budget.DOCM", .true_type = "ooxml",
	 .part_size = 100, .disp = SCAN_DELIVER, .cls = SCAN_ATTACHMENT,
	 .route = "incoming",
	 .reason = "attachment Budget.DOCM blocked (name:*.docm)",
	 .edits = "strip:2:The attachment \"Budget.DOCM\" was removed by the "
		  "mail gateway (name:*.docm).|header:-1:"
		  "X-Sluice-Attachment-Removed: name:*.docm|"},
	{.name = "attachment too large", .from = IN_FROM, .rcpt = IN_RCPT,
	 .size = 1000, .filename = "big.pdf", .true_type = "pdf",
	 .part_size = (10u << 20) + 1, .disp = SCAN_DELIVER,
	 .cls = SCAN_LIMIT, .route = "incoming",
	 .reason = "attachment big.pdf is larger than 10485760 bytes",
	 .edits = "strip:2:The attachment \"big.pdf\" was removed by the mail "
		  "gateway (size:attachment).|header:-1:"
		  "X-Sluice-Attachment-Removed: size:attachment|"},
	{.name = "virus wins over attachment (order)", .from = IN_FROM,
	 .rcpt = IN_RCPT, .size = 1000,
	 .f = {{SCAN_F_VIRUS, 2, "Win.Trojan.X"}}, .filename = "a.exe",
	 .true_type = "pe", .part_size = 100, .disp = SCAN_REJECT,
	 .cls = SCAN_VIRUS, .route = "incoming",
	 .reason = "virus Win.Trojan.X found in part 2 (a.exe)", .edits = ""},
	{.name = "phishing class -> quarantine + notify recipient",
	 .from = IN_FROM, .rcpt = IN_RCPT, .size = 1000,
	 .subject = "Mailbox", .f = {{SCAN_F_CONTENT, 1,
				     "phish-mailbox-full"}},
	 .disp = SCAN_QUARANTINE, .cls = SCAN_CONTENT, .route = "incoming",
	 .area = "phishing",
	 .reason = "content rule phish-mailbox-full (class phishing) matched "
		   "in part 1",
	 .edits = "notify:-1:A message from x@ext.example to bob@example.net "
		  "(subject \"Mailbox\") matched the content rule "
		  "phish-mailbox-full.|"},
	{.name = "unmapped class uses the filter action", .from = IN_FROM,
	 .rcpt = IN_RCPT, .size = 1000,
	 .f = {{SCAN_F_CONTENT, 1, "confidential-leak"}},
	 .disp = SCAN_REJECT, .cls = SCAN_CONTENT, .route = "incoming",
	 .reason = "content rule confidential-leak (class confidential) "
		   "matched in part 1", .edits = ""},
	{.name = "spam keywords", .from = IN_FROM, .rcpt = IN_RCPT,
	 .size = 1000, .keywords = 6, .disp = SCAN_DELIVER, .cls = SCAN_SPAM,
	 .route = "incoming", .reason = "spam score 6 reached the threshold 5",
	 .edits = "tag:-1:[SPAM]|header:-1:X-Sluice-Spam: yes, score=6|"},
	{.name = "spam below threshold", .from = IN_FROM, .rcpt = IN_RCPT,
	 .size = 1000, .keywords = 4, .disp = SCAN_DELIVER, .cls = SCAN_CLEAN,
	 .route = "incoming", .reason = "", .edits = ""},
	{.name = "client list adds", .from = IN_FROM, .rcpt = IN_RCPT,
	 .client = "192.0.2.77", .size = 1000, .keywords = 1,
	 .disp = SCAN_DELIVER, .cls = SCAN_SPAM, .route = "incoming",
	 .reason = "spam score 5 reached the threshold 5",
	 .edits = "tag:-1:[SPAM]|header:-1:X-Sluice-Spam: yes, score=5|"},
	{.name = "IPv6 client list", .from = IN_FROM, .rcpt = IN_RCPT,
	 .client = "2001:db8:bad:1::9", .size = 1000, .keywords = 1,
	 .disp = SCAN_DELIVER, .cls = SCAN_SPAM, .route = "incoming",
	 .reason = "spam score 5 reached the threshold 5",
	 .edits = "tag:-1:[SPAM]|header:-1:X-Sluice-Spam: yes, score=5|"},
	{.name = "partner sender list subtracts", .from = "a@partner.example.org",
	 .rcpt = IN_RCPT, .size = 1000, .keywords = 6, .disp = SCAN_DELIVER,
	 .cls = SCAN_CLEAN, .route = "incoming", .reason = "", .edits = ""},
	{.name = "reject list", .from = "news@bulk-mailer.example.com",
	 .rcpt = IN_RCPT, .size = 1000, .disp = SCAN_REJECT, .cls = SCAN_SPAM,
	 .route = "incoming",
	 .reason = "sender or client is on the spam list blocked-senders",
	 .edits = ""},
	{.name = "limit -> quarantine suspect", .from = IN_FROM,
	 .rcpt = IN_RCPT, .size = 1000,
	 .f = {{SCAN_F_LIMIT, -1, "mime-parts"}}, .disp = SCAN_QUARANTINE,
	 .cls = SCAN_LIMIT, .route = "incoming", .area = "suspect",
	 .reason = "message could not be fully checked: limit mime-parts",
	 .edits = ""},
	{.name = "ambiguous alone delivers", .from = IN_FROM, .rcpt = IN_RCPT,
	 .size = 1000, .f = {{SCAN_F_AMBIGUOUS, 1, "two-cte"}},
	 .disp = SCAN_DELIVER, .cls = SCAN_CLEAN, .route = "incoming",
	 .reason = "", .edits = ""},
	{.name = "message too large", .from = IN_FROM, .rcpt = IN_RCPT,
	 .size = 30u << 20, .disp = SCAN_REJECT, .cls = SCAN_LIMIT,
	 .route = "incoming", .reason = "message size 31457280 bytes exceeds "
	 "the limit of 20971520 bytes", .edits = ""},
	{.name = "outgoing leak -> quarantine + notify sender/admin",
	 .from = IN_RCPT, .rcpt = "x@ext.example", .size = 1000,
	 .subject = "Q3\r\nBcc: evil@x", .f = {{SCAN_F_CONTENT, 2,
					      "confidential-leak"}},
	 .filename = "q3.xlsx", .true_type = "xlsx", .part_size = 100,
	 .disp = SCAN_QUARANTINE, .cls = SCAN_CONTENT, .route = "outgoing",
	 .area = "confidential",
	 .reason = "content rule confidential-leak (class confidential) "
		   "matched in part 2",
	 .edits = "notify:-1:Your message to x@ext.example (subject "
		  "\"Q3??Bcc: evil@x\") was held because it looks like it "
		  "contains confidential material (confidential-leak). "
		  "Contact the security team if it must be sent.|"},
	{.name = "outgoing spam -> quarantine", .from = IN_RCPT,
	 .rcpt = "x@ext.example", .size = 1000, .keywords = 9,
	 .disp = SCAN_QUARANTINE, .cls = SCAN_SPAM, .route = "outgoing",
	 .area = "outbound-spam",
	 .reason = "spam score 9 reached the threshold 5", .edits = ""},
	{.name = "outgoing exe is allowed", .from = IN_RCPT,
	 .rcpt = "x@ext.example", .size = 1000, .filename = "tool.exe",
	 .true_type = "pe", .part_size = 100, .disp = SCAN_DELIVER,
	 .cls = SCAN_CLEAN, .route = "outgoing", .reason = "", .edits = ""},
	{.name = "outgoing virus notifies admin", .from = IN_RCPT,
	 .rcpt = "x@ext.example", .size = 1000, .subject = "hi",
	 .f = {{SCAN_F_VIRUS, 2, "Eicar"}}, .filename = "e.com",
	 .part_size = 68, .disp = SCAN_REJECT, .cls = SCAN_VIRUS,
	 .route = "outgoing", .reason = "virus Eicar found in part 2 (e.com)",
	 .edits = "notify:-1:A message from bob@example.net to x@ext.example "
		  "(subject \"hi\") contained the virus Eicar and was not "
		  "delivered.|"},
	{.name = "no route -> default policy strips with default notice",
	 .from = IN_FROM, .rcpt = "y@other.example", .size = 1000,
	 .filename = "x.scr", .part_size = 10, .disp = SCAN_DELIVER,
	 .cls = SCAN_ATTACHMENT, .route = "default",
	 .reason = "attachment x.scr blocked (extension:scr)",
	 .edits = "strip:2:The attachment \"x.scr\" was removed by the mail "
		  "gateway (extension:scr).|"},
	{.name = "file name with CR LF cannot inject", .from = IN_FROM,
	 .rcpt = "y@other.example", .size = 1000,
	 .filename = "a\r\nX-Evil: 1.exe", .part_size = 10,
	 .disp = SCAN_DELIVER, .cls = SCAN_ATTACHMENT, .route = "default",
	 .reason = "attachment a??X-Evil: 1.exe blocked (extension:exe)",
	 .edits = "strip:2:The attachment \"a??X-Evil: 1.exe\" was removed by "
		  "the mail gateway (extension:exe).|"},
};

static void render_edits(const struct scan_verdict *v, char *buf,
			 size_t sz)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < v->nedits && o < sz; i++)
		o += (size_t)snprintf(buf + o, sz - o, "%s:%d:%s|",
				      scan_edit_kind_name(v->edits[i].kind),
				      v->edits[i].part, v->edits[i].text);
}

static void run_case(const struct scan_config *c, const struct pcase *pc,
		     struct scan_verdict *v, char *explain, size_t ecap)
{
	static struct scan_part_info parts[3];
	const char *rcpt[1] = {pc->rcpt};
	struct scan_envelope env = {.mail_from = pc->from, .rcpt_to = rcpt,
				    .nrcpt = 1, .client_addr = pc->client};
	memset(parts, 0, sizeof(parts));
	parts[0] = (struct scan_part_info){.id = 0, .path = "",
		.content_type = "multipart/mixed", .size = pc->size};
	parts[1] = (struct scan_part_info){.id = 1, .path = "1",
		.content_type = "text/plain", .true_type = "text",
		.size = 100, .leaf = 1};
	unsigned nparts = 2;
	if (pc->filename != NULL || pc->true_type != NULL) {
		parts[2] = (struct scan_part_info){.id = 2, .path = "2",
			.content_type = "application/octet-stream",
			.filename = pc->filename, .true_type = pc->true_type,
			.size = pc->part_size, .leaf = 1};
		nparts = 3;
	}
	scan_verdict_init(v, explain, ecap);
	for (int i = 0; i < 3 && pc->f[i].name != NULL; i++)
		scan_verdict_add(v, pc->f[i].kind, pc->f[i].part,
				 pc->f[i].name, NULL);
	v->parts = parts;
	v->nparts = nparts;
	struct scan_policy_input in = {.message_size = pc->size,
				       .keyword_score = pc->keywords,
				       .subject = pc->subject};
	CHECK_EQ_INT(scan_policy_apply(c, &env, &in, v), 0);
}

static void check_case(const struct scan_config *c, const struct pcase *pc)
{
	static struct scan_verdict v;
	char explain[4096], edits[4096];
	run_case(c, pc, &v, explain, sizeof(explain));
	render_edits(&v, edits, sizeof(edits));
	CHECK_MSG(v.disposition == pc->disp, "%s: disposition %s", pc->name,
		  scan_disposition_name(v.disposition));
	CHECK_MSG(v.cls == pc->cls, "%s: class %s", pc->name,
		  scan_class_name(v.cls));
	CHECK_MSG(strcmp(v.route, pc->route) == 0, "%s: route %s", pc->name,
		  v.route);
	CHECK_MSG(strcmp(v.reason, pc->reason) == 0, "%s: reason '%s'",
		  pc->name, v.reason);
	CHECK_MSG(strcmp(edits, pc->edits) == 0, "%s: edits '%s'", pc->name,
		  edits);
	if (pc->area != NULL)
		CHECK_MSG(strcmp(v.quarantine_area, pc->area) == 0,
			  "%s: area '%s'", pc->name, v.quarantine_area);
	CHECK_MSG(strstr(explain, "policy: route ") == explain,
		  "%s: explain '%s'", pc->name, explain);
	CHECK(strstr(explain, "  result: ") != NULL);
}

static void test_shipped_policies(void)
{
	struct scan_config *c = shipped();
	if (c == NULL)
		return;
	for (size_t i = 0; i < sizeof(shipped_cases) / sizeof(shipped_cases[0]);
	     i++)
		check_case(c, &shipped_cases[i]);
	scan_config_free(c);
}

/* The built-in default policy equals the shipped `default`: the same
 * inputs through a config without policies and through the shipped one
 * (a route-less envelope) give the same verdicts. */
static void test_builtin_default_matches_shipped(void)
{
	char err[512];
	int rc;
	struct scan_config *s = shipped();
	struct scan_config *b = cfg_from("internal_domains: [example.net]\n",
					 err, sizeof(err), &rc);
	CHECK_MSG(rc == 0, "%s", err);
	if (s == NULL || b == NULL)
		goto out;
	static const struct pcase inputs[] = {
		{.filename = "a.pdf.exe", .part_size = 10},
		{.filename = "a.iso", .part_size = 10},
		{.filename = "a.txt", .true_type = "macho", .part_size = 10},
		{.filename = "a.pdf", .true_type = "dmg", .part_size = 10},
		{.filename = "a.zip", .part_size = 11u << 20},
		{.size = 21u << 20},
		{.keywords = 5},
		{.f = {{SCAN_F_VIRUS, 1, "V"}}},
		{.f = {{SCAN_F_CONTENT, 1, "r"}}},
		{.f = {{SCAN_F_MALFORMED, 1, "boundary"}}},
		{.f = {{SCAN_F_AMBIGUOUS, 1, "x"}}},
		{.filename = "fine.docx", .true_type = "docx", .part_size = 9},
	};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		static struct scan_verdict v1, v2;
		char e1[4096], e2[4096];
		struct pcase pc = inputs[i];
		pc.from = "x@ext.example";
		pc.rcpt = "y@other.example";
		if (pc.size == 0)
			pc.size = 1000;
		run_case(s, &pc, &v1, NULL, 0);
		run_case(b, &pc, &v2, NULL, 0);
		CHECK_EQ_STR(v1.route, "default");
		CHECK_EQ_STR(v2.route, "default");
		CHECK_MSG(v1.disposition == v2.disposition && v1.cls == v2.cls,
			  "input %zu: %s/%s vs %s/%s", i,
			  scan_disposition_name(v1.disposition),
			  scan_class_name(v1.cls),
			  scan_disposition_name(v2.disposition),
			  scan_class_name(v2.cls));
		CHECK_EQ_STR(v1.reason, v2.reason);
		CHECK_EQ_STR(v1.quarantine_area, v2.quarantine_area);
		render_edits(&v1, e1, sizeof(e1));
		render_edits(&v2, e2, sizeof(e2));
		CHECK_EQ_STR(e1, e2);
	}
	/* And the inputs do exercise every filter of it. */
out:
	scan_config_free(s);
	scan_config_free(b);
}

/* ---- Semantics on small configurations ---------------------------------- */

static const char order_conf[] =
	"templates:\n"
	"  all: 'f=%FILENAME% v=%VIRUSNAME% s=%SENDER% r=%RECIPIENT% "
	"subj=%SUBJECT% rule=%RULE% score=%SCORE% 100% %NOTAVAR'\n"
	"content_rules:\n"
	"  - {name: soft, keyword: a, class: mild}\n"
	"  - {name: hard, keyword: b, class: severe}\n"
	"policies:\n"
	"  default:\n"
	"    - type: spam\n"
	"      action: [tag, notify]\n"
	"      tag: '[S %SCORE%]'\n"
	"      notify: [sender, recipient]\n"
	"      template: all\n"
	"    - type: content\n"
	"      classes:\n"
	"        mild: header\n"
	"        severe: {action: [quarantine, strip], area: held,"
	" notice: 'removed %FILENAME% for %RULE%'}\n"
	"    - type: virus\n"
	"      action: quarantine\n"
	"    - type: spam\n"
	"      threshold: 1\n"
	"      action: delete\n";

static void test_order_and_actions(void)
{
	char err[512];
	int rc;
	struct scan_config *c = cfg_from(order_conf, err, sizeof(err), &rc);
	CHECK_MSG(rc == 0, "%s", err);
	if (c == NULL)
		return;
	static const struct pcase cases[] = {
		/* modifiers continue, a later terminal decides */
		{.name = "tag+notify then virus quarantine", .from = "",
		 .rcpt = "a@b.example", .size = 10, .keywords = 7,
		 .subject = "Hi", .f = {{SCAN_F_VIRUS, 2, "Eicar"}},
		 .filename = "e.com", .part_size = 1,
		 .disp = SCAN_QUARANTINE, .cls = SCAN_VIRUS,
		 .route = "default", .area = "virus",
		 .reason = "virus Eicar found in part 2 (e.com)",
		 .edits = "tag:-1:[S 7]|notify:-1:f=(unnamed) v=Eicar s=<> "
			  "r=a@b.example subj=Hi rule=spam-score score=7 "
			  "100% %NOTAVAR|"},
		/* the most severe content class wins; strip only its
		 * parts; modifiers of other classes are not applied */
		{.name = "content classes", .from = "s@x.example",
		 .rcpt = "a@b.example", .size = 10,
		 .f = {{SCAN_F_CONTENT, 1, "soft"},
		       {SCAN_F_CONTENT, 2, "hard"}},
		 .filename = "doc.txt", .part_size = 1,
		 .disp = SCAN_QUARANTINE, .cls = SCAN_CONTENT,
		 .route = "default", .area = "held",
		 .reason = "content rule hard (class severe) matched in part 2",
		 .edits = "strip:2:removed doc.txt for hard|"},
		{.name = "mild class only: header, continue to spam filter",
		 .from = "s@x.example", .rcpt = "a@b.example", .size = 10,
		 .keywords = 1, .f = {{SCAN_F_CONTENT, 1, "soft"}},
		 .disp = SCAN_DELETE, .cls = SCAN_CONTENT, .route = "default",
		 .reason = "spam score 1 reached the threshold 1",
		 .edits = "header:-1:X-Sluice-Content: soft|"},
		{.name = "unknown rule name -> class block -> filter default",
		 .from = "s@x.example", .rcpt = "a@b.example", .size = 10,
		 .f = {{SCAN_F_CONTENT, 1, "elsewhere"}}, .disp = SCAN_REJECT,
		 .cls = SCAN_CONTENT, .route = "default",
		 .reason = "content rule elsewhere (class block) matched in "
			   "part 1", .edits = ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(c, &cases[i]);

	/* The pipeline can supply classes itself (parallel array). */
	static struct scan_verdict v;
	const char *rcpt[] = {"a@b.example"};
	struct scan_envelope env = {.mail_from = "s@x.example",
				    .rcpt_to = rcpt, .nrcpt = 1};
	const char *classes[] = {"severe"};
	struct scan_policy_input in = {.message_size = 10,
				       .content_class = classes};
	char explain[2048];
	scan_verdict_init(&v, explain, sizeof(explain));
	scan_verdict_add(&v, SCAN_F_CONTENT, -1, "elsewhere", NULL);
	scan_policy_apply(c, &env, &in, &v);
	CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);
	CHECK_EQ_STR(v.quarantine_area, "held");
	CHECK_EQ_STR(v.reason, "content rule elsewhere (class severe) matched");
	CHECK_MSG(strstr(explain, "  filter 2 content (line 13): triggered: "
			 "content rule elsewhere (class severe) matched -> "
			 "strip, quarantine\n") != NULL, "%s", explain);
	CHECK_MSG(strstr(explain, "  filter 1 spam (line 8): not triggered "
			 "(score 0 < 5)\n") != NULL, "%s", explain);
	/* Evaluation stopped at the terminal action. */
	CHECK(strstr(explain, "filter 3") == NULL);
	scan_config_free(c);
}

static void test_spam_lists(void)
{
	char err[512];
	int rc;
	struct scan_config *c = cfg_from(
		"spam:\n  lists:\n"
		"    - {name: a, senders: ['*@a.example'], score: 3}\n"
		"    - {name: b, clients: ['10.0.0.0/8', '2001:db8::/32'], "
		"score: 2}\n"
		"    - {name: both, senders: ['*@a.example'], clients: "
		"[10.1.0.0/16], score: -10}\n"
		"    - {name: ok, senders: ['@vips'], score: bypass}\n"
		"    - {name: no, senders: ['*.bad.example'], score: reject}\n"
		"address_groups:\n  vips: [boss@x.example]\n",
		err, sizeof(err), &rc);
	CHECK_MSG(rc == 0, "%s", err);
	if (c == NULL)
		return;
	static const struct {
		const char *from, *client;
		int score;
		const char *why;
	} rows[] = {
		{"u@a.example", NULL, 3, "a +3"},
		{"u@a.example", "10.9.9.9", 5, "a +3, b +2"},
		{"u@a.example", "10.1.2.3", -5, "a +3, b +2, both -10"},
		{"u@z.example", "10.1.2.3", 2, "b +2"},
		{"u@z.example", "::ffff:10.1.2.3", 2, "b +2"},
		{"u@z.example", "2001:db8:1::1", 2, "b +2"},
		{"u@z.example", "2001:db9::1", 0, ""},
		{"u@z.example", "not-an-ip", 0, ""},
		{"boss@X.example", "10.0.0.1", SCAN_SPAM_LIST_BYPASS,
		 "b +2, ok bypass"},
		{"u@mx.bad.example", NULL, SCAN_SPAM_LIST_REJECT, "no reject"},
		{"", NULL, 0, ""},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct scan_envelope env = {.mail_from = rows[i].from,
					    .client_addr = rows[i].client};
		char why[128];
		int s = scan_spam_list_score(c, &env, why, sizeof(why));
		CHECK_MSG(s == rows[i].score, "row %zu: %d", i, s);
		CHECK_MSG(strcmp(why, rows[i].why) == 0, "row %zu: '%s'", i,
			  why);
	}
	/* Bypass: keyword score over threshold, spam filter passes. */
	static struct scan_verdict v;
	const char *rcpt[] = {"a@b.example"};
	struct scan_envelope env = {.mail_from = "boss@x.example",
				    .rcpt_to = rcpt, .nrcpt = 1};
	struct scan_policy_input in = {.keyword_score = 50};
	scan_verdict_init(&v, NULL, 0);
	scan_policy_apply(c, &env, &in, &v);
	CHECK_EQ_INT(v.disposition, SCAN_DELIVER);
	CHECK_EQ_INT(v.cls, SCAN_CLEAN);
	CHECK_EQ_INT(v.nedits, 0);
	CHECK_EQ_INT(v.spam_threshold, 5);
	scan_config_free(c);
}

static void test_limits_filter(void)
{
	char err[512];
	int rc;
	struct scan_config *c = cfg_from(
		"limits: {attachments: 2}\n"
		"policies:\n  default:\n"
		"    - type: limits\n      findings: [ambiguous]\n"
		"      action: delete\n", err, sizeof(err), &rc);
	CHECK_MSG(rc == 0, "%s", err);
	if (c == NULL)
		return;
	static struct scan_verdict v;
	struct scan_part_info parts[4] = {
		{.id = 0, .content_type = "multipart/mixed"},
		{.id = 1, .content_type = "application/zip",
		 .filename = "a.zip"},
		{.id = 2, .filename = "in-archive-1.txt"}, /* member */
		{.id = 3, .content_type = "text/plain", .filename = "b.txt"},
	};
	struct scan_policy_input in = {.parts = parts, .nparts = 4};
	scan_verdict_init(&v, NULL, 0);
	scan_verdict_add(&v, SCAN_F_LIMIT, -1, "mime-depth", NULL);
	scan_policy_apply(c, NULL, &in, &v);
	/* limit findings are not selected; 2 MIME attachments are allowed */
	CHECK_EQ_INT(v.disposition, SCAN_DELIVER);
	CHECK_EQ_INT(v.cls, SCAN_LIMIT);
	parts[2].content_type = "text/plain";
	scan_verdict_init(&v, NULL, 0);
	scan_policy_apply(c, NULL, &in, &v);
	CHECK_EQ_INT(v.disposition, SCAN_DELETE);
	CHECK_EQ_STR(v.reason, "message has 3 attachments, more than 2");
	scan_verdict_init(&v, NULL, 0);
	in.nparts = 2;
	scan_verdict_add(&v, SCAN_F_AMBIGUOUS, 1, "two-cte", NULL);
	scan_policy_apply(c, NULL, &in, &v);
	CHECK_EQ_INT(v.disposition, SCAN_DELETE);
	CHECK_EQ_STR(v.reason, "message could not be fully checked: "
			       "ambiguous two-cte");
	scan_config_free(c);
}

/* A verdict already full of findings: filters still decide. */
static void test_full_verdict(void)
{
	struct scan_config *c = shipped();
	if (c == NULL)
		return;
	static struct scan_verdict v;
	struct scan_part_info parts[2] = {
		{.id = 0, .content_type = "multipart/mixed"},
		{.id = 1, .content_type = "application/x", .filename = "x.exe"},
	};
	struct scan_policy_input in = {.parts = parts, .nparts = 2,
				       .message_size = 100};
	scan_verdict_init(&v, NULL, 0);
	for (int i = 0; i < SCAN_MAX_FINDINGS; i++)
		scan_verdict_add(&v, SCAN_F_AMBIGUOUS, 0, "x", NULL);
	for (int i = 0; i < SCAN_MAX_EDITS; i++)
		scan_verdict_edit(&v, SCAN_EDIT_ADD_HEADER, -1, "X-A: b");
	scan_policy_apply(c, NULL, &in, &v);
	/* the strip found no room: quarantined, never delivered with x.exe */
	CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);
	CHECK_EQ_STR(v.quarantine_area, "suspect");
	CHECK_EQ_STR(v.reason, "1 more parts to strip than a verdict holds "
			       "(16 edits): quarantined instead");
	CHECK_EQ_INT(v.nedits, SCAN_MAX_EDITS);
	CHECK_EQ_INT(v.nfindings_total, SCAN_MAX_FINDINGS + 2);
	scan_config_free(c);
}

/* More blocked attachments than a verdict has room for strips: the message
 * is quarantined, not delivered with the attachments left over. */
static void test_strips_beyond_edits(void)
{
	struct scan_config *c = shipped();
	if (c == NULL)
		return;
	static struct scan_verdict v;
	static struct scan_part_info parts[21];
	static char names[21][16];
	parts[0] = (struct scan_part_info){.id = 0,
		.content_type = "multipart/mixed"};
	for (int i = 1; i <= 20; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d.exe", i);
		parts[i] = (struct scan_part_info){.id = i,
			.content_type = "application/octet-stream",
			.filename = names[i], .leaf = 1};
	}
	struct scan_policy_input in = {.parts = parts, .nparts = 21,
				       .message_size = 100};
	scan_verdict_init(&v, NULL, 0);
	scan_policy_apply(c, NULL, &in, &v);
	CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);
	CHECK(scan_verdict_has(&v, SCAN_F_LIMIT));
	in.nparts = 5;  /* four: every strip fits, delivered */
	scan_verdict_init(&v, NULL, 0);
	scan_policy_apply(c, NULL, &in, &v);
	CHECK_EQ_INT(v.disposition, SCAN_DELIVER);
	unsigned strips = 0;
	for (unsigned i = 0; i < v.nedits; i++)
		strips += v.edits[i].kind == SCAN_EDIT_STRIP;
	CHECK_EQ_INT(strips, 4);
	scan_config_free(c);
}

int main(void)
{
	RUN(test_config_errors);
	RUN(test_keyword_expression);
	RUN(test_shipped_config);
	RUN(test_defaults_without_config);
	RUN(test_route_selection);
	RUN(test_shipped_policies);
	RUN(test_builtin_default_matches_shipped);
	RUN(test_order_and_actions);
	RUN(test_spam_lists);
	RUN(test_limits_filter);
	RUN(test_full_verdict);
	RUN(test_strips_beyond_edits);
	return CHECK_DONE();
}
