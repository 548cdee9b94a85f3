"""DSN (RFC 3461 parameters, RFC 3464 reports) end to end: EHLO/LHLO offer
DSN; RET/ENVID/NOTIFY/ORCPT are checked, kept in the queue and passed on
to a next hop that offers DSN; failures, delays, "relayed" and "delivered"
reports reach the sender's INBOX as multipart/report messages; NOTIFY=NEVER
silences them; a local DSN respects the sender's quota.

Remote destinations are a second mailkeep or a small recording SMTP
listener (asyncio, in a thread) on loopback, reached through queue_route;
queue timers are seconds. Every wait is bounded."""
import asyncio
import email
import email.policy
import re
import smtplib
import sqlite3
import threading
import time
import unittest

import mk
import smtpkit

FAST = dict(queue_retry_min="1s", queue_retry_max="1s", queue_lifetime="5s")


def message(subject, body="The body of the message.\r\n", to="bob@example.net"):
    return ("From: alice@example.com\r\n"
            f"To: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@example.com>\r\n"
            "Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\n" + body)


def wait_for(pred, timeout=20, step=0.1, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def inbox(srv, addr="alice@example.com"):
    try:
        return smtpkit.messages(srv, addr)
    except (sqlite3.OperationalError, FileNotFoundError):  # store still being made
        return []


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def report(raw):
    """(the message, its delivery-status part as text, its third part)."""
    m = parse(raw)
    assert m.get_content_type() == "multipart/report", m.get_content_type()
    assert m.get_param("report-type") == "delivery-status"
    parts = m.get_payload()
    assert [p.get_content_type() for p in parts[:2]] == ["text/plain",
                                                          "message/delivery-status"], parts
    return m, parts[1].as_string(), parts[2]


def closed_port():
    return mk.free_port()  # bound and released: nothing listens there


class Recorder:
    """A small SMTP server on loopback (asyncio, own thread) that accepts
    everything and records the MAIL and RCPT lines; offers DSN or not."""

    def __init__(self, dsn, rcpt_reply=b"250 2.1.5 ok"):
        self.ehlo = b"250-recorder\r\n" + (b"250-DSN\r\n" if dsn else b"") + b"250 8BITMIME\r\n"
        self.rcpt_reply = rcpt_reply + b"\r\n"
        self.lines = []
        self.messages = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()
        if not self.ready.wait(10):
            raise RuntimeError("recorder did not start")

    def run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self.session, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def session(self, reader, writer):
        try:
            writer.write(b"220 recorder ESMTP\r\n")
            while True:
                line = await asyncio.wait_for(reader.readline(), 30)
                if not line:
                    break
                verb = line[:4].upper()
                if verb in (b"MAIL", b"RCPT"):
                    self.lines.append(line.decode().rstrip("\r\n"))
                if verb == b"EHLO":
                    writer.write(self.ehlo)
                elif verb == b"RCPT":
                    writer.write(self.rcpt_reply)
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    while (await asyncio.wait_for(reader.readline(), 30)) not in (b".\r\n", b""):
                        pass
                    self.messages += 1
                    writer.write(b"250 2.0.0 taken\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    def close(self):
        async def stop():
            self.server.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.t.join(10)
        self.loop.close()


class DsnBase(unittest.TestCase):
    def server(self, domains="example.com", users=("alice@example.com",), **settings):
        srv = mk.Server(domains=domains, **settings).start()
        self.addCleanup(srv.__exit__, None, None, None)
        for u in users:
            srv.add_user(u, "pw")
        return srv

    def submit(self, srv, rcpts, msg, mail_options=(), rcpt_options=(), sender="alice@example.com"):
        s = smtplib.SMTP("127.0.0.1", srv.ports["submission"], timeout=10)
        self.addCleanup(s.close)
        s.starttls(context=mk.tls_context())
        s.login(sender, "pw")
        self.assertTrue(s.has_extn("dsn"))
        refused = s.sendmail(sender, rcpts, msg, mail_options=list(mail_options),
                             rcpt_options=list(rcpt_options))
        self.assertEqual(refused, {})
        s.quit()

    def queue_empty(self, srv):
        return "0 message(s) queued" in srv.cli("queue", "list").stdout

    def recorder(self, dsn, **kw):
        r = Recorder(dsn, **kw)
        self.addCleanup(r.close)
        return r


class Offer(DsnBase):
    def test_ehlo_lists_dsn_on_every_port(self):
        srv = self.server(users=("alice@example.com", "bob@example.com"))
        for svc, hello in (("smtp", "EHLO"), ("submission", "EHLO"), ("lmtp", "LHLO")):
            r = smtpkit.Raw(srv, svc)
            self.addCleanup(r.close)
            code, lines = r.cmd(f"{hello} client.example")
            self.assertEqual(code, 250)
            self.assertIn("DSN", lines, (svc, lines))
        # and the parameters are taken
        r = smtpkit.Raw(srv, "smtp")
        self.addCleanup(r.close)
        r.cmd("EHLO client.example")
        self.assertEqual(r.code("MAIL FROM:<x@remote.example> RET=HDRS ENVID=QQ+2B1"), 250)
        self.assertEqual(r.code("RCPT TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE,DELAY "
                                "ORCPT=rfc822;bob@example.com"), 250)
        self.assertEqual(r.code("RSET"), 250)

    def test_bad_parameters_are_501(self):
        srv = self.server(users=("bob@example.com",))
        r = smtpkit.Raw(srv, "smtp")
        self.addCleanup(r.close)
        r.cmd("EHLO client.example")
        for bad in ("ENVID=" + "x" * 101,     # longer than 100 characters
                    "ENVID=ab+2",             # cut hexchar
                    "ENVID=ab+2b",            # lower-case hex
                    "ENVID=ab+0Acd",          # decodes to a line break
                    "RET=SOME", "RET=FULL RET=HDRS", "ENVID=a ENVID=b"):
            code, lines = r.cmd(f"MAIL FROM:<x@remote.example> {bad}")
            self.assertEqual(code, 501, bad)
            self.assertTrue(lines[0].startswith("5.5.4"), (bad, lines))
        self.assertEqual(r.code("MAIL FROM:<x@remote.example> ENVID=" + "x" * 100), 250)
        for bad in ("NOTIFY=NEVER,SUCCESS", "NOTIFY=SUCCESS,SUCCESS", "NOTIFY=SOMETIMES",
                    "NOTIFY=SUCCESS,", "ORCPT=bob@example.com", "ORCPT=rfc822;bob+2",
                    "ORCPT=rfc822;", "ORCPT=rfc822;a+0Db@example.com",
                    "ORCPT=rfc822;" + "x" * 500):
            code, lines = r.cmd(f"RCPT TO:<bob@example.com> {bad}")
            self.assertEqual(code, 501, bad)
            self.assertTrue(lines[0].startswith("5.5.4"), (bad, lines))
        self.assertEqual(r.code("RCPT TO:<bob@example.com> NOTIFY=never"), 250)
        self.assertEqual(r.code("QUIT"), 221)


class Failures(DsnBase):
    def test_notify_never_makes_no_bounce(self):
        srv = self.server(queue_route=f"example.net=127.0.0.1:{closed_port()}", **FAST)
        self.submit(srv, ["bob@example.net"], message("never tell"),
                    rcpt_options=["NOTIFY=NEVER"])
        wait_for(lambda: re.search(r"to=<bob@example.net> failed: no DSN \(NOTIFY\)", srv.log()),
                 what="the expiry")
        wait_for(lambda: self.queue_empty(srv), what="empty queue")
        time.sleep(1)
        self.assertEqual(inbox(srv), [])
        self.assertNotIn("DSN (failed) queued", srv.log())

    def test_failure_dsn_fields_and_ret(self):
        srv = self.server(queue_route=f"example.net=127.0.0.1:{closed_port()}", **FAST)
        # RET=HDRS, ENVID and ORCPT; NOTIFY not given (failures are reported)
        self.submit(srv, ["bob@example.net"], message("headers only"),
                    mail_options=["RET=HDRS", "ENVID=QQ+2B314"],
                    rcpt_options=["ORCPT=rfc822;Bob+2Bx@example.net"])
        # no RET: the whole message comes back; NOTIFY=FAILURE given
        self.submit(srv, ["bob@example.net"], message("whole one"),
                    rcpt_options=["NOTIFY=FAILURE"])
        msgs = wait_for(lambda: len(inbox(srv)) >= 2 and inbox(srv), timeout=30,
                        what="two bounces")
        by_subject = {}
        for raw in msgs:
            m, status, third = report(raw)
            self.assertEqual(m["To"], "<alice@example.com>")
            self.assertEqual(m["Subject"], "Undelivered Mail Returned to Sender")
            self.assertIn("Action: failed", status)
            self.assertIn("Final-Recipient: rfc822; bob@example.net", status)
            self.assertIn("Status: 4.4.7", status)
            subject = "headers only" if b"Subject: headers only" in raw else "whole one"
            by_subject[subject] = (status, third)
        status, third = by_subject["headers only"]
        self.assertIn("Original-Envelope-Id: QQ+314", status)
        self.assertIn("Original-Recipient: rfc822;Bob+x@example.net", status)
        self.assertEqual(third.get_content_type(), "text/rfc822-headers")
        self.assertIn("Subject: headers only", third.get_payload())
        self.assertNotIn("The body of the message", third.get_payload())
        status, third = by_subject["whole one"]
        self.assertNotIn("Original-Envelope-Id", status)
        self.assertNotIn("Original-Recipient", status)
        self.assertEqual(third.get_content_type(), "message/rfc822")
        inner = third.get_payload()[0]
        self.assertEqual(inner["Subject"], "whole one")
        self.assertIn("The body of the message", inner.get_payload())
        wait_for(lambda: self.queue_empty(srv), what="empty queue")

    def test_delay_notice_once_then_failure(self):
        srv = self.server(queue_route=f"example.net=127.0.0.1:{closed_port()}",
                          queue_retry_min="1s", queue_retry_max="1s", queue_lifetime="6s",
                          queue_delay_notice="2s")
        # bob: NOTIFY not given (FAILURE,DELAY); carol: FAILURE only
        s = smtplib.SMTP("127.0.0.1", srv.ports["submission"], timeout=10)
        self.addCleanup(s.close)
        s.starttls(context=mk.tls_context())
        s.login("alice@example.com", "pw")
        s.mail("alice@example.com")
        self.assertEqual(s.rcpt("bob@example.net")[0], 250)
        self.assertEqual(s.rcpt("carol@example.net", ["NOTIFY=FAILURE"])[0], 250)
        self.assertEqual(s.data(message("slow one"))[0], 250)
        s.quit()
        first = wait_for(lambda: inbox(srv), timeout=15, what="the delay notice")
        m, status, third = report(first[0])
        self.assertEqual(m["Subject"], "Delayed Mail (still being retried)")
        self.assertIn("Action: delayed", status)
        self.assertIn("Final-Recipient: rfc822; bob@example.net", status)
        self.assertNotIn("carol", status)
        self.assertRegex(status, r"Status: 4\.\d\.\d")
        self.assertIn("Will-Retry-Until: ", status)
        self.assertEqual(third.get_content_type(), "text/rfc822-headers")
        # then, at the lifetime, the failure for both; no second delay notice
        msgs = wait_for(lambda: len(inbox(srv)) >= 2 and inbox(srv), timeout=20,
                        what="the failure")
        wait_for(lambda: self.queue_empty(srv), what="empty queue")
        time.sleep(1)
        msgs = inbox(srv)
        self.assertEqual(len(msgs), 2)
        m, status, _ = report(msgs[1])
        self.assertIn("Action: failed", status)
        self.assertIn("bob@example.net", status)
        self.assertIn("carol@example.net", status)
        self.assertEqual(len(re.findall(r"DSN \(delayed\) queued", srv.log())), 1)

    def test_local_dsn_waits_for_quota(self):
        rec = self.recorder(dsn=False, rcpt_reply=b"550 5.1.1 no such user")
        srv = self.server(queue_route=f"example.net=127.0.0.1:{rec.port}",
                          queue_retry_min="1s", queue_retry_max="1s", queue_lifetime="1m")
        srv.cli("quota", "set", "alice@example.com", "1K")
        self.submit(srv, ["bob@example.net"], message("over quota"))
        # the bounce cannot go into the full INBOX: it stays queued, retried
        wait_for(lambda: re.search(r"relay=local user=\d+ result=deferred status=4\.2\.2",
                                   srv.log()), what="deferred local DSN")
        self.assertEqual(inbox(srv), [])
        self.assertRegex(srv.cli("queue", "list").stdout, r"pending\s+<alice@example.com>")
        srv.cli("quota", "set", "alice@example.com", "unlimited")
        msgs = wait_for(lambda: inbox(srv), timeout=15, what="the DSN after the quota grew")
        _, status, _ = report(msgs[0])
        self.assertIn("Action: failed", status)
        self.assertIn("Status: 5.1.1", status)
        wait_for(lambda: self.queue_empty(srv), what="empty queue")


class Successes(DsnBase):
    def test_delivered_dsn_for_local_recipient(self):
        srv = self.server(users=("alice@example.com", "bob@example.com", "carol@example.com"))
        self.submit(srv, ["bob@example.com", "carol@example.com"],
                    message("local one", to="bob@example.com"),
                    mail_options=["ENVID=local-1"],
                    rcpt_options=["NOTIFY=SUCCESS,FAILURE", ])
        # smtplib gives the same rcpt_options to every RCPT: both asked SUCCESS
        msgs = wait_for(lambda: inbox(srv), what="delivered DSN")
        self.assertEqual(len(msgs), 1)
        m, status, third = report(msgs[0])
        self.assertEqual(m["Subject"], "Successful Mail Delivery Report")
        self.assertEqual(m["From"], "Mail Delivery System <MAILER-DAEMON@mail.test>")
        self.assertIn("Original-Envelope-Id: local-1", status)
        for rcpt in ("bob@example.com", "carol@example.com"):
            self.assertIn(f"Final-Recipient: rfc822; {rcpt}\nAction: delivered\nStatus: 2.0.0",
                          status.replace("\r\n", "\n"))
        self.assertEqual(third.get_content_type(), "text/rfc822-headers")
        self.assertIn("Subject: local one", third.get_payload())
        self.assertEqual(len(smtpkit.messages(srv, "bob@example.com")), 1)

    def test_no_dsn_without_success_request(self):
        srv = self.server(users=("alice@example.com", "bob@example.com"))
        self.submit(srv, ["bob@example.com"], message("quiet", to="bob@example.com"))
        self.submit(srv, ["bob@example.com"], message("quiet 2", to="bob@example.com"),
                    rcpt_options=["NOTIFY=FAILURE,DELAY"])
        wait_for(lambda: len(inbox(srv, "bob@example.com")) == 2, what="deliveries")
        time.sleep(1)
        self.assertEqual(inbox(srv), [])

    def test_lmtp_success_for_a_local_sender(self):
        srv = self.server(users=("alice@example.com", "bob@example.com"))
        r = smtpkit.Raw(srv, "lmtp")
        self.addCleanup(r.close)
        r.cmd("LHLO mta.example")
        self.assertEqual(r.code("MAIL FROM:<alice@example.com> ENVID=lmtp+2B1"), 250)
        self.assertEqual(r.code("RCPT TO:<bob@example.com> NOTIFY=SUCCESS "
                                "ORCPT=rfc822;bob@example.com"), 250)
        self.assertEqual(r.code("DATA"), 354)
        r.send(message("via lmtp", to="bob@example.com") + ".\r\n")
        self.assertEqual(r.reply()[0], 250)
        msgs = wait_for(lambda: inbox(srv), what="delivered DSN")
        _, status, _ = report(msgs[0])
        self.assertIn("Original-Envelope-Id: lmtp+1", status)
        self.assertIn("Original-Recipient: rfc822;bob@example.com", status)
        self.assertIn("Action: delivered", status)

    def test_second_mailkeep_reports_delivery(self):
        a = mk.Server(domains="example.com", **FAST)
        b = mk.Server(domains="example.net", **FAST)
        self.addCleanup(a.__exit__, None, None, None)
        self.addCleanup(b.__exit__, None, None, None)
        with open(a.config, "a") as f:
            f.write(f"queue_route = example.net=127.0.0.1:{b.ports['smtp']}\n")
        with open(b.config, "a") as f:
            f.write(f"queue_route = example.com=127.0.0.1:{a.ports['smtp']}\n")
        a.start()
        b.start()
        a.add_user("alice@example.com", "pw")
        b.add_user("bob@example.net", "pw")
        self.submit(a, ["bob@example.net"], message("two hops"),
                    mail_options=["ENVID=hop+2B1", "RET=HDRS"],
                    rcpt_options=["NOTIFY=SUCCESS", "ORCPT=rfc822;bob@example.net"])
        wait_for(lambda: inbox(b, "bob@example.net"), what="delivery on B")
        # B received the DSN requests (it offers DSN, so A passed them on)
        # and, as the final hop, sent the "delivered" DSN back to A.
        msgs = wait_for(lambda: inbox(a), what="delivered DSN from B")
        m, status, _ = report(msgs[0])
        self.assertIn("Action: delivered", status)
        self.assertIn("Original-Envelope-Id: hop+1", status)
        self.assertIn("Original-Recipient: rfc822;bob@example.net", status)
        self.assertIn("Final-Recipient: rfc822; bob@example.net", status)
        self.assertIn("DSN (delivered) queued", b.log())
        # A sent no "relayed" DSN of its own: B reports
        wait_for(lambda: self.queue_empty(a), what="A's queue empty")
        time.sleep(0.5)
        self.assertEqual(len(inbox(a)), 1)
        self.assertNotIn("DSN (relayed)", a.log())

    def test_params_passed_on_to_a_dsn_next_hop(self):
        rec = self.recorder(dsn=True)
        srv = self.server(queue_route=f"example.net=127.0.0.1:{rec.port}", **FAST)
        self.submit(srv, ["bob@example.net"], message("passed on"),
                    mail_options=["RET=HDRS", "ENVID=QQ+2B1"],
                    rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;bob@example.net"])
        wait_for(lambda: rec.messages == 1, what="delivery to the recorder")
        self.assertIn("RET=HDRS ENVID=QQ+2B1", rec.lines[0])
        self.assertTrue(rec.lines[0].startswith("MAIL FROM:<alice@example.com>"), rec.lines)
        self.assertEqual(rec.lines[1], "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE "
                                       "ORCPT=rfc822;bob@example.net")
        wait_for(lambda: self.queue_empty(srv), what="empty queue")
        time.sleep(0.5)
        self.assertEqual(inbox(srv), [])  # the next hop reports, not us

    def test_relayed_dsn_when_next_hop_has_no_dsn(self):
        rec = self.recorder(dsn=False)
        srv = self.server(queue_route=f"example.net=127.0.0.1:{rec.port}", **FAST)
        self.submit(srv, ["bob@example.net"], message("relayed one"),
                    mail_options=["ENVID=rel-1"],
                    rcpt_options=["NOTIFY=SUCCESS", "ORCPT=rfc822;bob@example.net"])
        msgs = wait_for(lambda: inbox(srv), what="relayed DSN")
        # nothing DSN-related was sent to a server that does not offer it
        self.assertEqual(rec.lines, ["MAIL FROM:<alice@example.com>", "RCPT TO:<bob@example.net>"])
        m, status, third = report(msgs[0])
        self.assertEqual(m["Subject"], "Delivery Status Notification (relayed)")
        self.assertIn("Action: relayed", status)
        self.assertIn("Status: 2.0.0", status)
        self.assertIn("Original-Envelope-Id: rel-1", status)
        self.assertIn(f"Remote-MTA: dns; 127.0.0.1[127.0.0.1]:{rec.port}", status)
        self.assertEqual(third.get_content_type(), "text/rfc822-headers")
        wait_for(lambda: self.queue_empty(srv), what="empty queue")


if __name__ == "__main__":
    unittest.main()
