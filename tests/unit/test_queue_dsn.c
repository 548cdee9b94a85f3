/* The bounce message (RFC 3464): composed, then parsed back with the MIME
 * parser and checked part by part. */
#include "unit.h"
#include "lib/arena.h"
#include "mime/mime.h"
#include "queue/queue_dsn.h"

static const char orig[] = "Received: from client by mail.test\r\n"
                           "From: alice@example.com\r\nTo: bob@example.net\r\n"
                           "Subject: the lost one\r\nMessage-ID: <m1@example.com>\r\n";

static void env_sample(struct queue_env *e)
{
	memset(e, 0, sizeof(*e));
	strcpy(e->id, "65f1a2b300c0ffee");
	strcpy(e->sender, "alice@example.com");
	e->created = 1795255200;  /* 2026-11-21 10:00:00 UTC */
	assert_int_equal(queue_env_add_rcpt(e, "bob@example.net"), 0);
	assert_int_equal(queue_env_add_rcpt(e, "carol@example.net"), 0);
	assert_int_equal(queue_env_add_rcpt(e, "dave@example.org"), 0);
	e->rcpts[0].state = QUEUE_RCPT_FAILED;
	strcpy(e->rcpts[0].status, "5.1.1");
	strcpy(e->rcpts[0].remote, "mx.example.net[192.0.2.1]:25");
	strcpy(e->rcpts[0].diag, "550 5.1.1 <bob@example.net>: no such user");
	e->rcpts[1].state = QUEUE_RCPT_DELIVERED;
	e->rcpts[2].state = QUEUE_RCPT_FAILED;
	strcpy(e->rcpts[2].diag, "connect mx.example.org: Connection refused");
}

static const char *body_of(const char *msg, const struct mime_part *p, struct arena *a)
{
	return arena_strndup(a, msg + p->body_start, p->body_end - p->body_start);
}

static void compose_and_parse_back(void **state)
{
	struct queue_env e;
	env_sample(&e);
	struct queue_dsn d = {
		.hostname = "mail.test", .env = &e, .now = 1795258800, .boundary = "=_b0und",
		.message_id = "", .expired = false, .orig_headers = orig,
		.orig_headers_len = sizeof(orig) - 1,
	};
	struct buf out;
	buf_init(&out, 1 << 20);
	assert_int_equal(queue_dsn_compose(&d, &out), 0);
	const char *msg = buf_ptr(&out);
	size_t len = buf_len(&out);
	/* CRLF only */
	for (size_t i = 0; i < len; i++)
		if (msg[i] == '\n')
			assert_true(i > 0 && msg[i - 1] == '\r');
	assert_non_null(strstr(msg, "From: Mail Delivery System <MAILER-DAEMON@mail.test>\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: <alice@example.com>\r\n"));
	assert_non_null(strstr(msg, "\r\nDate: Sat, 21 Nov 2026 11:00:00 +0000\r\n"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <dsn.65f1a2b300c0ffee.1795258800@mail.test>\r\n"));
	assert_non_null(strstr(msg, "\r\nAuto-Submitted: auto-replied\r\n"));

	struct arena *a = arena_new(4096);
	struct mime_message *m = mime_parse(a, msg, len);
	const struct mime_part *root = m->root;
	assert_true(mime_part_is(root, "multipart", "report"));
	assert_str(mime_param_get(root->params, root->nparams, "report-type"), "delivery-status");
	assert_int_equal(root->nchildren, 3);
	const struct mime_part *human = root->children, *status = human->next,
	                       *headers = status->next;
	assert_true(mime_part_is(human, "text", "plain"));
	assert_true(mime_part_is(status, "message", "delivery-status"));
	assert_true(mime_part_is(headers, "text", "rfc822-headers"));

	const char *h = body_of(msg, human, a);
	assert_non_null(strstr(h, "<bob@example.net>: host mx.example.net[192.0.2.1]:25 said: "
	                          "550 5.1.1 <bob@example.net>: no such user"));
	assert_non_null(strstr(h, "<dave@example.org>: connect mx.example.org"));
	assert_null(strstr(h, "carol"));
	assert_non_null(strstr(h, "permanent"));

	const char *s = body_of(msg, status, a);
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
	assert_null(strstr(s, "carol"));  /* delivered: not reported */

	const char *hd = body_of(msg, headers, a);
	assert_true(strncmp(hd, orig, sizeof(orig) - 1) == 0);
	arena_free(&a);
	buf_deinit(&out);
	queue_env_clear(&e);
}

static void expired_wording_and_codes(void **state)
{
	struct queue_env e;
	env_sample(&e);
	e.rcpts[0].status[0] = '\0';
	e.smtputf8 = true;
	struct queue_dsn d = {
		.hostname = "mail.test", .env = &e, .now = 1795258800, .boundary = "b",
		.message_id = "given@mail.test", .expired = true, .orig_headers = "Subject: x",
		.orig_headers_len = 10,
	};
	struct buf out;
	buf_init(&out, 1 << 20);
	assert_int_equal(queue_dsn_compose(&d, &out), 0);
	const char *msg = buf_ptr(&out);
	assert_non_null(strstr(msg, "Message-ID: <given@mail.test>\r\n"));
	assert_non_null(strstr(msg, "given up"));
	assert_non_null(strstr(msg, "Final-Recipient: utf-8; bob@example.net\r\nAction: failed\r\n"
	                            "Status: 5.1.1\r\n"));  /* from the reply's text */
	assert_non_null(strstr(msg, "Will-Retry-Until: "));
	/* headers without a final CRLF still end the part properly */
	assert_non_null(strstr(msg, "Subject: x\r\n\r\n--b--\r\n"));
	/* a tiny ceiling fails cleanly */
	struct buf small;
	buf_init(&small, 100);
	assert_int_equal(queue_dsn_compose(&d, &small), -1);
	buf_deinit(&small);
	buf_deinit(&out);
	queue_env_clear(&e);
	assert_str(queue_dsn_status_for_code(550), "5.0.0");
	assert_str(queue_dsn_status_for_code(421), "4.0.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compose_and_parse_back),
		cmocka_unit_test(expired_wording_and_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
