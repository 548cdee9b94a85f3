#include "unit.h"
#include "smtp/smtp_cmd.h"

#include <stdio.h>

#define ALL_EXT (SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 | SMTP_EXT_DSN | \
                 SMTP_EXT_AUTH | SMTP_EXT_CHUNKING)

static void verbs_and_arguments(void **state)
{
	struct smtp_cmd c;
	smtp_cmd_parse("ehlo client.example", 19, &c);
	assert_int_equal(c.verb, SMTP_CMD_EHLO);
	assert_int_equal(c.arg_len, 14);
	assert_memory_equal(c.arg, "client.example", 14);
	smtp_cmd_parse("QUIT", 4, &c);
	assert_int_equal(c.verb, SMTP_CMD_QUIT);
	assert_int_equal(c.arg_len, 0);
	smtp_cmd_parse("MAIL   FROM:<a@b.c>  ", 21, &c);
	assert_int_equal(c.verb, SMTP_CMD_MAIL);
	assert_int_equal(c.arg_len, 12);
	smtp_cmd_parse("StartTLS", 8, &c);
	assert_int_equal(c.verb, SMTP_CMD_STARTTLS);
	smtp_cmd_parse("MAILX", 5, &c);
	assert_int_equal(c.verb, SMTP_CMD_UNKNOWN);
	smtp_cmd_parse("", 0, &c);
	assert_int_equal(c.verb, SMTP_CMD_UNKNOWN);
	smtp_cmd_parse("NOOP\0x", 6, &c);
	assert_int_equal(c.verb, SMTP_CMD_UNKNOWN);
	assert_str(smtp_verb_name(SMTP_CMD_BDAT), "BDAT");
}

static int mail(const char *arg, unsigned ext, struct smtp_mail_args *m, const char **reply)
{
	return smtp_mail_parse(arg, strlen(arg), ext, m, reply);
}

static void mail_parameters(void **state)
{
	struct smtp_mail_args m;
	const char *reply = NULL;
	assert_int_equal(mail("FROM:<a@example.com> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS "
	                      "ENVID=QQ+2B314 AUTH=<>", ALL_EXT, &m, &reply), 0);
	assert_str(m.path.addr, "a@example.com");
	assert_true(m.has_size);
	assert_int_equal(m.size, 1000);
	assert_int_equal(m.body, SMTP_BODY_8BITMIME);
	assert_true(m.smtputf8);
	assert_int_equal(m.ret, SMTP_RET_HDRS);
	assert_str(m.envid, "QQ+2B314");

	assert_int_equal(mail("from: <>", ALL_EXT, &m, &reply), 0);
	assert_true(m.path.is_null);

	struct {
		const char *arg;
		unsigned ext;
		const char *code;
	} bad[] = {
		{ "FROM:a@example.com", ALL_EXT, "501 5.5.4" },
		{ "TO:<a@example.com>", ALL_EXT, "501 5.5.4" },
		{ "FROM:<a@@example.com>", ALL_EXT, "501 5.1.7" },
		{ "FROM:<a@example.com> SIZE=x", ALL_EXT, "501" },
		{ "FROM:<a@example.com> SIZE=1 SIZE=2", ALL_EXT, "501" },
		{ "FROM:<a@example.com> SIZE=99999999999999999999999", ALL_EXT, "501" },
		{ "FROM:<a@example.com> BODY=BINARYMIME", ALL_EXT, "555" },
		{ "FROM:<a@example.com> BODY=9BIT", ALL_EXT, "501" },
		{ "FROM:<a@example.com> FOO=BAR", ALL_EXT, "555" },
		{ "FROM:<a@example.com> SIZE=10", 0, "555" },
		{ "FROM:<a@example.com> RET=ALL", ALL_EXT, "501" },
		{ "FROM:<a@example.com> ENVID=a=b", ALL_EXT, "501" },
		{ "FROM:<a@example.com> ENVID=+zz", ALL_EXT, "501" },
		{ "FROM:<a@example.com> ENVID=a+2b", ALL_EXT, "501 5.5.4" },   /* lower-case hex */
		{ "FROM:<a@example.com> ENVID=a+0Ab", ALL_EXT, "501 5.5.4" },  /* a line break */
		{ "FROM:<a@example.com> ENVID=a ENVID=b", ALL_EXT, "501 5.5.4" },
		{ "FROM:<a@example.com> RET=FULL RET=FULL", ALL_EXT, "501 5.5.4" },
		{ "FROM:<a@example.com> ENVID=x", SMTP_EXT_SIZE, "555" },       /* DSN not offered */
		{ "FROM:<a@example.com>SIZE=1", ALL_EXT, "501" },
		{ "FROM:<a@example.com> =x", ALL_EXT, "501" },
		{ "FROM:<j\xc3\xb6rg@example.com>", ALL_EXT, "553 5.6.7" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reply = NULL;
		if (mail(bad[i].arg, bad[i].ext, &m, &reply) == 0)
			fail_msg("accepted %s", bad[i].arg);
		if (strncmp(reply, bad[i].code, strlen(bad[i].code)) != 0)
			fail_msg("%s: got %s", bad[i].arg, reply);
	}
	assert_int_equal(mail("FROM:<j\xc3\xb6rg@example.com> SMTPUTF8", ALL_EXT, &m, &reply), 0);
	/* ENVID: at most 100 characters (RFC 3461 4.4), kept as sent */
	char arg[200];
	snprintf(arg, sizeof(arg), "FROM:<a@example.com> ENVID=%0100d", 7);
	assert_int_equal(mail(arg, ALL_EXT, &m, &reply), 0);
	assert_int_equal(strlen(m.envid), 100);
	snprintf(arg, sizeof(arg), "FROM:<a@example.com> ENVID=%0101d", 7);
	assert_int_equal(mail(arg, ALL_EXT, &m, &reply), -1);
	assert_true(strncmp(reply, "501 5.5.4", 9) == 0);
}

static void rcpt_parameters(void **state)
{
	struct smtp_rcpt_args r;
	const char *reply = NULL;
	const char *arg = "TO:<b@example.com> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+40x@example.com";
	assert_int_equal(smtp_rcpt_parse(arg, strlen(arg), ALL_EXT, false, &r, &reply), 0);
	assert_int_equal(r.notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY);
	assert_str(r.orcpt, "rfc822;b+40x@example.com");
	static const char *const bad[] = {
		"TO:<b@example.com> NOTIFY=NEVER,SUCCESS", "TO:<b@example.com> NOTIFY=SOMETIMES",
		"TO:<b@example.com> NOTIFY=SUCCESS,", "TO:<b@example.com> ORCPT=nosemicolon",
		"TO:<b@example.com> NOTIFY=FAILURE NOTIFY=DELAY", "TO:<b@example.com> ORCPT=rfc822;",
		"TO:<b@example.com> ORCPT=rfc822;b+0D@x", "TO:<b@example.com> ORCPT=rfc 822;b",
		"TO:<b@example.com> ORCPT=;b@x", "TO:<b@example.com> NOTIFY=NEVER,NEVER",
		"TO:<b@example.com> SIZE=1", "TO:<>", "TO:b@example.com",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (smtp_rcpt_parse(bad[i], strlen(bad[i]), ALL_EXT, false, &r, &reply) == 0)
			fail_msg("accepted %s", bad[i]);
		if (strstr(bad[i], "NOTIFY") != NULL || strstr(bad[i], "ORCPT") != NULL)
			if (strncmp(reply, "501 5.5.4", 9) != 0)
				fail_msg("%s: got %s", bad[i], reply);
	}
	arg = "TO:<b@example.com> NOTIFY=never";
	assert_int_equal(smtp_rcpt_parse(arg, strlen(arg), ALL_EXT, false, &r, &reply), 0);
	assert_int_equal(r.notify, SMTP_NOTIFY_NEVER);
	assert_str(r.orcpt, "");
	arg = "TO:<Postmaster>";
	assert_int_equal(smtp_rcpt_parse(arg, strlen(arg), ALL_EXT, false, &r, &reply), 0);
	assert_true(r.path.is_postmaster);
	arg = "TO:<\xc3\xbc@example.com>";
	assert_int_equal(smtp_rcpt_parse(arg, strlen(arg), ALL_EXT, false, &r, &reply), -1);
	assert_int_equal(smtp_rcpt_parse(arg, strlen(arg), ALL_EXT, true, &r, &reply), 0);
}

static void bdat_arguments(void **state)
{
	uint64_t size;
	bool last;
	const char *reply;
	assert_int_equal(smtp_bdat_parse("100", 3, &size, &last, &reply), 0);
	assert_int_equal(size, 100);
	assert_false(last);
	assert_int_equal(smtp_bdat_parse("0 last", 6, &size, &last, &reply), 0);
	assert_int_equal(size, 0);
	assert_true(last);
	assert_int_equal(smtp_bdat_parse("", 0, &size, &last, &reply), -1);
	assert_int_equal(smtp_bdat_parse("10 FIRST", 8, &size, &last, &reply), -1);
	assert_int_equal(smtp_bdat_parse("10LAST", 6, &size, &last, &reply), -1);
	assert_int_equal(smtp_bdat_parse("-1", 2, &size, &last, &reply), -1);
	assert_int_equal(smtp_bdat_parse("99999999999999999999", 20, &size, &last, &reply), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verbs_and_arguments),
		cmocka_unit_test(mail_parameters),
		cmocka_unit_test(rcpt_parameters),
		cmocka_unit_test(bdat_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
