/* Delivery status notifications (RFC 3464): composed, then parsed back
 * with the MIME parser and checked part by part; every action, the DSN
 * fields from ENVID/ORCPT (shown decoded), headers-only and whole-message
 * returns. */
#include "unit.h"
#include "lib/arena.h"
#include "mime/mime.h"
#include "queue/queue_dsn.h"

static const char orig[] = "Received: from client by mail.test\r\n"
                           "From: alice@example.com\r\nTo: bob@example.net\r\n"
                           "Subject: the lost one\r\nMessage-ID: <m1@example.com>\r\n";

static const struct queue_dsn_rcpt two_failed[] = {
	{ .action = QUEUE_DSN_FAILED, .addr = "bob@example.net", .status = "5.1.1",
	  .remote = "mx.example.net[192.0.2.1]:25",
	  .diag = "550 5.1.1 <bob@example.net>: no such user" },
	{ .action = QUEUE_DSN_FAILED, .addr = "dave@example.org", .status = "", .remote = "",
	  .diag = "connect mx.example.org: Connection refused" },
};

static struct queue_dsn sample(const struct queue_dsn_rcpt *rcpts, size_t n)
{
	return (struct queue_dsn){
		.hostname = "mail.test", .sender = "alice@example.com",
		.queue_id = "65f1a2b300c0ffee", .arrival = 1795255200, /* 2026-11-21 10:00 UTC */
		.now = 1795258800, .retry_until = 1795687200, .boundary = "=_b0und",
		.message_id = "", .rcpts = rcpts, .n_rcpts = n, .orig = orig,
		.orig_len = sizeof(orig) - 1,
	};
}

static const char *body_of(const char *msg, const struct mime_part *p, struct arena *a)
{
	return arena_strndup(a, msg + p->body_start, p->body_end - p->body_start);
}

/* Compose d and check the frame every DSN shares; the three parts. */
static const struct mime_part *compose_parse(const struct queue_dsn *d, struct buf *out,
                                             struct arena *a, const char **msg_r)
{
	buf_init(out, 1 << 20);
	assert_int_equal(queue_dsn_compose(d, out), 0);
	const char *msg = buf_ptr(out);
	size_t len = buf_len(out);
	for (size_t i = 0; i < len; i++)  /* CRLF only */
		if (msg[i] == '\n')
			assert_true(i > 0 && msg[i - 1] == '\r');
	assert_non_null(strstr(msg, "From: Mail Delivery System <MAILER-DAEMON@mail.test>\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: <alice@example.com>\r\n"));
	assert_non_null(strstr(msg, "\r\nAuto-Submitted: auto-replied\r\n"));
	struct mime_message *m = mime_parse(a, msg, len);
	const struct mime_part *root = m->root;
	assert_true(mime_part_is(root, "multipart", "report"));
	assert_str(mime_param_get(root->params, root->nparams, "report-type"), "delivery-status");
	assert_int_equal(root->nchildren, 3);
	assert_true(mime_part_is(root->children, "text", "plain"));
	assert_true(mime_part_is(root->children->next, "message", "delivery-status"));
	*msg_r = msg;
	return root->children;
}

static void failure_with_headers(void **state)
{
	struct queue_dsn d = sample(two_failed, 2);
	struct buf out;
	struct arena *a = arena_new(4096);
	const char *msg;
	const struct mime_part *human = compose_parse(&d, &out, a, &msg);
	const struct mime_part *status = human->next, *headers = status->next;
	assert_non_null(strstr(msg, "\r\nSubject: Undelivered Mail Returned to Sender\r\n"));
	assert_non_null(strstr(msg, "\r\nDate: Sat, 21 Nov 2026 11:00:00 +0000\r\n"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <dsn.65f1a2b300c0ffee.1795258800@mail.test>\r\n"));
	assert_true(mime_part_is(headers, "text", "rfc822-headers"));

	const char *h = body_of(msg, human, a);
	assert_non_null(strstr(h, "<bob@example.net>: host mx.example.net[192.0.2.1]:25 said: "
	                          "550 5.1.1 <bob@example.net>: no such user"));
	assert_non_null(strstr(h, "<dave@example.org>: connect mx.example.org"));
	assert_non_null(strstr(h, "permanent"));
	assert_non_null(strstr(h, "Its headers are attached."));

	const char *s = body_of(msg, status, a);
	/* no ENVID: the per-message fields start with Reporting-MTA */
	assert_true(strncmp(s, "Reporting-MTA: dns; mail.test\r\nX-Queue-ID: 65f1a2b300c0ffee\r\n"
	                       "Arrival-Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\n", 109) == 0);
	assert_non_null(strstr(s, "\r\n\r\nFinal-Recipient: rfc822; bob@example.net\r\n"
	                          "Action: failed\r\nStatus: 5.1.1\r\n"
	                          "Remote-MTA: dns; mx.example.net[192.0.2.1]:25\r\n"
	                          "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: no such user\r\n"
	                          "Last-Attempt-Date: Sat, 21 Nov 2026 11:00:00 +0000\r\n"));
	/* no remote, not an SMTP reply: default status and a non-smtp diagnostic type */
	assert_non_null(strstr(s, "\r\n\r\nFinal-Recipient: rfc822; dave@example.org\r\n"
	                          "Action: failed\r\nStatus: 5.0.0\r\n"
	                          "Diagnostic-Code: x-mailkeep; connect mx.example.org: "
	                          "Connection refused\r\n"));
	assert_null(strstr(s, "Original-"));
	assert_null(strstr(s, "Will-Retry-Until"));  /* only for "delayed" */

	const char *hd = body_of(msg, headers, a);
	assert_true(strncmp(hd, orig, sizeof(orig) - 1) == 0);
	arena_free(&a);
	buf_deinit(&out);
}

static void expired_wording_and_codes(void **state)
{
	struct queue_dsn_rcpt r = two_failed[0];
	r.status = "";
	struct queue_dsn d = sample(&r, 1);
	d.utf8 = true;
	d.expired = true;
	d.message_id = "given@mail.test";
	d.boundary = "b";
	d.orig = "Subject: x";
	d.orig_len = 10;
	struct buf out;
	buf_init(&out, 1 << 20);
	assert_int_equal(queue_dsn_compose(&d, &out), 0);
	const char *msg = buf_ptr(&out);
	assert_non_null(strstr(msg, "Message-ID: <given@mail.test>\r\n"));
	assert_non_null(strstr(msg, "given up"));
	assert_non_null(strstr(msg, "Final-Recipient: utf-8; bob@example.net\r\nAction: failed\r\n"
	                            "Status: 5.1.1\r\n"));  /* from the reply's text */
	/* headers without a final CRLF still end the part properly */
	assert_non_null(strstr(msg, "Subject: x\r\n\r\n--b--\r\n"));
	/* a tiny ceiling fails cleanly */
	struct buf small;
	buf_init(&small, 100);
	assert_int_equal(queue_dsn_compose(&d, &small), -1);
	buf_deinit(&small);
	/* an expired failure without any status is 4.4.7 */
	r.diag = "connect: Connection refused";
	buf_reset(&out, 0);
	assert_int_equal(queue_dsn_compose(&d, &out), 0);
	assert_non_null(strstr(buf_ptr(&out), "Action: failed\r\nStatus: 4.4.7\r\n"));
	buf_deinit(&out);
	assert_str(queue_dsn_status_for_code(550), "5.0.0");
	assert_str(queue_dsn_status_for_code(421), "4.0.0");
}

/* ENVID and ORCPT come as xtext and are shown decoded (RFC 3461 6.3). */
static void envelope_id_and_original_recipient(void **state)
{
	struct queue_dsn_rcpt r = two_failed[0];
	r.orcpt = "rfc822;B+2Bjunk+3Dx@Example.NET";
	struct queue_dsn d = sample(&r, 1);
	d.envid = "QQ+2B123+20abc";
	struct buf out;
	struct arena *a = arena_new(4096);
	const char *msg;
	const struct mime_part *human = compose_parse(&d, &out, a, &msg);
	const char *s = body_of(msg, human->next, a);
	assert_true(strncmp(s, "Original-Envelope-Id: QQ+123 abc\r\nReporting-MTA: dns; mail.test\r\n",
	                    65) == 0);
	assert_non_null(strstr(s, "\r\n\r\nOriginal-Recipient: rfc822;B+junk=x@Example.NET\r\n"
	                          "Final-Recipient: rfc822; bob@example.net\r\nAction: failed\r\n"));
	/* a value that is not xtext is left out rather than written raw */
	r.orcpt = "rfc822;bad+zz";
	d.envid = "bad value";
	buf_deinit(&out);
	compose_parse(&d, &out, a, &msg);
	assert_null(strstr(msg, "Original-Recipient"));
	assert_null(strstr(msg, "Original-Envelope-Id"));
	arena_free(&a);
	buf_deinit(&out);
}

/* RET=FULL: the message itself, as message/rfc822, parsed as a message. */
static void whole_message_returned(void **state)
{
	static const char whole[] = "From: alice@example.com\r\nSubject: full\r\n\r\nThe body.\r\n";
	struct queue_dsn d = sample(two_failed, 1);
	d.orig = whole;
	d.orig_len = sizeof(whole) - 1;
	d.orig_full = true;
	struct buf out;
	struct arena *a = arena_new(4096);
	const char *msg;
	const struct mime_part *human = compose_parse(&d, &out, a, &msg);
	const struct mime_part *third = human->next->next;
	assert_true(mime_part_is(third, "message", "rfc822"));
	assert_non_null(strstr(body_of(msg, third, a), "Subject: full\r\n\r\nThe body.\r\n"));
	assert_non_null(strstr(body_of(msg, human, a), "A copy of it is attached."));
	arena_free(&a);
	buf_deinit(&out);
}

static void success_delay_and_relayed(void **state)
{
	struct queue_dsn_rcpt rs[] = {
		{ .action = QUEUE_DSN_DELIVERED, .addr = "bob@example.com", .status = "",
		  .remote = "", .diag = "" },
		{ .action = QUEUE_DSN_RELAYED, .addr = "carol@example.net",
		  .remote = "mx.example.net[192.0.2.1]:25", .diag = "250 2.0.0 Ok: queued as X" },
		/* a wrong class for the action is replaced by the action's own */
		{ .action = QUEUE_DSN_DELAYED, .addr = "dave@example.org", .status = "5.1.1",
		  .diag = "connect mx.example.org: Connection refused" },
	};
	struct queue_dsn d = sample(rs, 2);
	struct buf out;
	struct arena *a = arena_new(4096);
	const char *msg;
	const struct mime_part *human = compose_parse(&d, &out, a, &msg);
	assert_non_null(strstr(msg, "\r\nSubject: Delivery Status Notification (relayed)\r\n"));
	const char *s = body_of(msg, human->next, a);
	assert_non_null(strstr(s, "Final-Recipient: rfc822; bob@example.com\r\n"
	                          "Action: delivered\r\nStatus: 2.0.0\r\n"));
	assert_non_null(strstr(s, "Final-Recipient: rfc822; carol@example.net\r\n"
	                          "Action: relayed\r\nStatus: 2.0.0\r\n"
	                          "Remote-MTA: dns; mx.example.net[192.0.2.1]:25\r\n"));
	assert_true(mime_part_is(human->next->next, "text", "rfc822-headers"));
	assert_non_null(strstr(body_of(msg, human, a), "was delivered"));
	buf_deinit(&out);

	d = sample(&rs[0], 1);
	compose_parse(&d, &out, a, &msg);
	assert_non_null(strstr(msg, "\r\nSubject: Successful Mail Delivery Report\r\n"));
	buf_deinit(&out);

	d = sample(&rs[2], 1);
	d.queue_id = "";
	human = compose_parse(&d, &out, a, &msg);
	assert_non_null(strstr(msg, "\r\nSubject: Delayed Mail (still being retried)\r\n"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <dsn.1795258800.=_b0und@mail.test>\r\n"));
	s = body_of(msg, human->next, a);
	assert_null(strstr(s, "X-Queue-ID"));
	assert_non_null(strstr(s, "Action: delayed\r\nStatus: 4.0.0\r\n"));
	assert_non_null(strstr(s, "Will-Retry-Until: Thu, 26 Nov 2026 10:00:00 +0000\r\n"));
	assert_non_null(strstr(body_of(msg, human, a), "keep trying until Thu, 26 Nov 2026"));
	buf_deinit(&out);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failure_with_headers),
		cmocka_unit_test(expired_wording_and_codes),
		cmocka_unit_test(envelope_id_and_original_recipient),
		cmocka_unit_test(whole_message_returned),
		cmocka_unit_test(success_delay_and_relayed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
