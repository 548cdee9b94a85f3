"""Inbound SMTP on port 25: local domains only, aliases and catch-all,
limits, quota, PIPELINING, CHUNKING, SMTPUTF8/8BITMIME, bad input."""
import smtplib
import unittest

import mk
import smtpkit

MAX = 4096  # max_message_size for this server


def message(subject, body=b"text\r\n", size=None):
    head = (b"From: someone@remote.example\r\nTo: alice@example.com\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <x@remote.example>\r\n\r\n")
    if size is not None:
        line = b"x" * 70 + b"\r\n"
        body = line * ((size - len(head)) // len(line) + 1)
    return head + body


class Inbound(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(max_message_size=MAX).start()
        cls.srv.add_user("alice@example.com", "pw")
        cls.srv.add_user("bob@example.com", "pw")
        cls.srv.add_user("full@example.com", "pw")
        cls.srv.add_user("catch@other.test", "pw")
        cls.srv.cli("alias", "add", "ali@example.com", "alice@example.com")
        cls.srv.cli("alias", "add", "@other.test", "catch@other.test")
        cls.srv.cli("quota", "set", "full@example.com", "2K")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def smtp(self):
        s = smtplib.SMTP("127.0.0.1", self.srv.ports["smtp"], timeout=10)
        self.addCleanup(s.close)
        s.ehlo("client.remote.example")
        return s

    def raw(self):
        r = smtpkit.Raw(self.srv, "smtp")
        self.addCleanup(r.close)
        self.assertEqual(r.greeting[0], 220)
        self.assertEqual(r.cmd("EHLO client.remote.example")[0], 250)
        return r

    def count(self, addr):
        return len(smtpkit.messages(self.srv, addr))

    def test_ehlo_offers_extensions_but_no_auth(self):
        s = self.smtp()
        for ext in ("pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes",
                    "chunking", "starttls"):
            self.assertTrue(s.has_extn(ext), ext)
        self.assertTrue(s.has_extn("dsn"))
        self.assertEqual(s.esmtp_features["size"], str(MAX))
        self.assertFalse(s.has_extn("auth"))
        s.starttls(context=mk.tls_context())
        s.ehlo("client.remote.example")
        self.assertFalse(s.has_extn("starttls"))
        s.sendmail("x@remote.example", ["bob@example.com"], message("over tls"))
        s.quit()
        received, _ = smtpkit.split_received(smtpkit.messages(self.srv, "bob@example.com")[-1])
        self.assertIn(b"with ESMTPS", received)
        self.assertIn(b"from client.remote.example ([127.0.0.1])", received)

    def test_recipients_unknown_relay_alias_catchall(self):
        s = self.smtp()
        s.mail("x@remote.example")
        self.assertEqual(s.rcpt("nobody@example.com"), (550, b"5.1.1 User unknown"))
        self.assertEqual(s.rcpt("victim@remote.example"), (554, b"5.7.1 Relay access denied"))
        self.assertEqual(s.rcpt("x@[127.0.0.1]")[0], 554)
        self.assertEqual(s.rcpt("ali@example.com")[0], 250)
        self.assertEqual(s.rcpt("anything@other.test")[0], 250)
        a0, c0 = self.count("alice@example.com"), self.count("catch@other.test")
        code, _ = s.data(message("alias and catch-all"))
        self.assertEqual(code, 250)
        s.quit()
        self.assertEqual(self.count("alice@example.com"), a0 + 1)
        self.assertEqual(self.count("catch@other.test"), c0 + 1)

    def test_open_relay_attempt_refused_even_with_local_sender(self):
        s = self.smtp()
        s.mail("alice@example.com")
        self.assertEqual(s.rcpt("victim@gmail.example")[0], 554)
        self.assertEqual(s.docmd("DATA")[0], 554)  # no valid recipients
        s.quit()

    def test_size_declared_too_big_refused_at_mail(self):
        s = self.smtp()
        code, text = s.mail("x@remote.example", ["SIZE=%d" % (MAX + 1)])
        self.assertEqual((code, text[:5]), (552, b"5.3.4"))
        self.assertEqual(s.mail("x@remote.example", ["SIZE=%d" % MAX])[0], 250)
        s.quit()

    def test_oversize_at_end_of_data_nothing_stored(self):
        before = self.count("bob@example.com")
        s = self.smtp()
        del s.esmtp_features["size"]  # so smtplib does not declare it
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            s.sendmail("x@remote.example", ["bob@example.com"], message("big", size=MAX + 100))
        self.assertEqual(cm.exception.smtp_code, 552)
        self.assertTrue(cm.exception.smtp_error.startswith(b"5.3.4"))
        s.sendmail("x@remote.example", ["bob@example.com"], message("small after big"))
        s.quit()
        self.assertEqual(self.count("bob@example.com"), before + 1)
        self.assertEqual(smtpkit.spool_files(self.srv), [])

    def test_quota_exceeded_is_temporary_and_stores_nothing(self):
        s = self.smtp()
        # SIZE declared: refused at RCPT, for that recipient only.
        s.mail("x@remote.example", ["SIZE=3000"])
        self.assertEqual(s.rcpt("full@example.com"), (452, b"4.2.2 Mailbox full, try again later"))
        self.assertEqual(s.rcpt("bob@example.com")[0], 250)
        s.rset()
        # Undeclared: found when delivering; 452 and nothing stored.
        del s.esmtp_features["size"]
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            s.sendmail("x@remote.example", ["full@example.com"], message("q", size=3000))
        self.assertEqual(cm.exception.smtp_code, 452)
        self.assertTrue(cm.exception.smtp_error.startswith(b"4.2.2"))
        self.assertEqual(self.count("full@example.com"), 0)
        s.sendmail("x@remote.example", ["full@example.com"], message("fits"))
        s.quit()
        self.assertEqual(self.count("full@example.com"), 1)

    def test_pipelining_whole_transactions_in_one_write(self):
        before = self.count("bob@example.com")
        r = self.raw()
        m1 = message("pipelined 1")
        m2 = message("pipelined 2")
        r.send(b"MAIL FROM:<x@remote.example>\r\nRCPT TO:<nobody@example.com>\r\n"
               b"RCPT TO:<bob@example.com>\r\nDATA\r\n" + m1 + b".\r\n"
               b"MAIL FROM:<y@remote.example>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n"
               + m2 + b".\r\nNOOP\r\nQUIT\r\n")
        codes = [r.reply()[0] for _ in range(11)]
        self.assertEqual(codes, [250, 550, 250, 354, 250, 250, 250, 354, 250, 250, 221])
        msgs = smtpkit.messages(self.srv, "bob@example.com")
        self.assertEqual(len(msgs), before + 2)
        self.assertEqual(smtpkit.split_received(msgs[-2])[1], m1)
        self.assertEqual(smtpkit.split_received(msgs[-1])[1], m2)

    def test_dot_stuffing_byte_exact(self):
        body = b".\r\n..\r\n.leading\r\nmid.dle\r\n. \r\n"
        msg = message("dots", body=body)
        r = self.raw()
        stuffed = msg.replace(b"\r\n.", b"\r\n..")
        self.assertEqual(r.code("MAIL FROM:<x@remote.example>"), 250)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 250)
        self.assertEqual(r.code("DATA"), 354)
        r.send(stuffed + b".\r\n")
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(smtpkit.split_received(
            smtpkit.messages(self.srv, "bob@example.com")[-1])[1], msg)

    def test_bdat_chunking(self):
        msg = message("chunked", body=b"line one\r\n.not stuffed\r\nend\r\n")
        r = self.raw()
        self.assertEqual(r.code("MAIL FROM:<x@remote.example> BODY=8BITMIME"), 250)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 250)
        a, b = msg[:50], msg[50:]
        r.send(b"BDAT %d\r\n" % len(a) + a)
        self.assertEqual(r.reply()[0], 250)
        r.send(b"BDAT %d LAST\r\n" % len(b) + b)
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(smtpkit.split_received(
            smtpkit.messages(self.srv, "bob@example.com")[-1])[1], msg)
        # A chunk without a transaction is read and dropped; then all is well.
        r.send(b"BDAT 5 LAST\r\nNOOP\r")
        self.assertEqual(r.reply()[0], 503)
        self.assertEqual(r.code("NOOP"), 250)
        # A chunk over the size limit: 552 at its end, the transaction ends.
        self.assertEqual(r.code("MAIL FROM:<x@remote.example>"), 250)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 250)
        big = b"y" * (MAX + 10)
        r.send(b"BDAT %d\r\n" % len(big) + big)
        self.assertEqual(r.reply()[0], 552)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 503)
        r.close()

    def test_smtputf8_and_8bitmime(self):
        msg = ("From: jörg@bücher.example\r\nTo: alice@example.com\r\nSubject: Grüße\r\n"
               "\r\nÜmlauts and ✓ in 8 bits\r\n").encode()
        before = self.count("alice@example.com")
        r = self.raw()
        self.assertEqual(r.code("MAIL FROM:<jörg@bücher.example> SMTPUTF8 BODY=8BITMIME"), 250)
        self.assertEqual(r.code("RCPT TO:<alice@example.com>"), 250)
        self.assertEqual(r.code("DATA"), 354)
        r.send(msg + b".\r\n")
        self.assertEqual(r.reply()[0], 250)
        msgs = smtpkit.messages(self.srv, "alice@example.com")
        self.assertEqual(len(msgs), before + 1)
        received, rest = smtpkit.split_received(msgs[-1])
        self.assertEqual(rest, msg)
        self.assertIn(b"with UTF8SMTP", received)
        # Without SMTPUTF8 a non-ASCII address is refused.
        self.assertEqual(r.code("RSET"), 250)
        self.assertEqual(r.cmd("MAIL FROM:<jörg@bücher.example>"), (553, ["5.6.7 Non-ASCII address requires the SMTPUTF8 parameter"]))
        r.close()

    def test_bare_lf_refused_and_session_goes_on(self):
        before = self.count("bob@example.com")
        r = self.raw()
        self.assertEqual(r.code("MAIL FROM:<x@remote.example>"), 250)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 250)
        self.assertEqual(r.code("DATA"), 354)
        r.send(b"Subject: bare\r\n\r\nhello\nworld\r\n.\r\n")
        code, text = r.reply()
        self.assertEqual(code, 554)
        self.assertIn("bare LF", text[0])
        self.assertEqual(r.code("NOOP"), 250)
        self.assertEqual(r.code("MAIL FROM:<x@remote.example>"), 250)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 250)
        self.assertEqual(r.code("DATA"), 354)
        r.send(b"Subject: cr\r\n\r\nhello\rworld\r\n.\r\n")
        code, text = r.reply()
        self.assertEqual(code, 554)
        self.assertIn("bare CR", text[0])
        self.assertEqual(r.code("NOOP"), 250)
        self.assertEqual(self.count("bob@example.com"), before)
        # An LF-only client's end ("\n.\n") cannot be trusted: refused, closed.
        self.assertEqual(r.code("MAIL FROM:<x@remote.example>"), 250)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 250)
        self.assertEqual(r.code("DATA"), 354)
        r.send(b"Subject: lf only\n\nbody\n.\n")
        self.assertEqual(r.reply()[0], 554)
        self.assertEqual(r.reply()[0], 421)
        self.assertTrue(r.lines.closed_by_peer())
        self.assertEqual(self.count("bob@example.com"), before)

    def test_smuggled_end_of_data_is_not_followed(self):
        before = self.count("bob@example.com")
        r = self.raw()
        self.assertEqual(r.code("MAIL FROM:<x@remote.example>"), 250)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 250)
        self.assertEqual(r.code("DATA"), 354)
        r.send(b"Subject: smuggle\r\n\r\nhi\n.\r\nMAIL FROM:<evil@x>\r\n"
               b"RCPT TO:<bob@example.com>\r\nDATA\r\nsmuggled\r\n.\r\n")
        self.assertEqual(r.reply()[0], 554)
        self.assertEqual(r.reply()[0], 421)
        self.assertTrue(r.lines.closed_by_peer())
        self.assertEqual(self.count("bob@example.com"), before)

    def test_bad_input_gets_5xx_and_session_goes_on(self):
        r = self.raw()
        self.assertEqual(r.code("FOO bar"), 500)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 503)
        self.assertEqual(r.code("DATA"), 503)
        self.assertEqual(r.code("MAIL FROM:bob@example.com"), 501)
        self.assertEqual(r.code("MAIL FROM:<a@@b>"), 501)
        self.assertEqual(r.code("MAIL FROM:<x@remote.example> FOO=BAR"), 555)
        self.assertEqual(r.code("VRFY bob"), 502)
        self.assertEqual(r.code("EXPN staff"), 502)
        self.assertEqual(r.code("AUTH PLAIN"), 503)
        self.assertEqual(r.code("MAIL FROM:<x@remote.example>"), 250)
        self.assertEqual(r.code("MAIL FROM:<x@remote.example>"), 503)
        # DSN is offered: a bad NOTIFY is a syntax error; a parameter of no
        # offered extension is still unknown (RFC 5321 4.1.1.11).
        self.assertEqual(r.code("RCPT TO:<bob@example.com> NOTIFY=NEVER,SUCCESS"), 501)
        self.assertEqual(r.code("RCPT TO:<bob@example.com> FOO=BAR"), 555)
        self.assertEqual(r.code("RSET"), 250)
        self.assertEqual(r.code("QUIT"), 221)

    def test_line_over_the_limit(self):
        r = self.raw()
        r.send(b"NOOP " + b"x" * 20000 + b"\r\n")
        self.assertEqual(r.reply(), (500, ["5.5.2 Line too long"]))
        self.assertEqual(r.code("NOOP"), 250)
        r.close()

    def test_commands_before_ehlo_and_helo(self):
        r = smtpkit.Raw(self.srv, "smtp")
        self.addCleanup(r.close)
        self.assertEqual(r.code("MAIL FROM:<x@remote.example>"), 503)
        self.assertEqual(r.code("HELO"), 501)
        self.assertEqual(r.code("HELO client"), 250)
        # HELO (not EHLO): no extension parameters.
        self.assertEqual(r.code("MAIL FROM:<x@remote.example> SIZE=10"), 555)
        self.assertEqual(r.code("MAIL FROM:<x@remote.example>"), 250)
        r.close()


if __name__ == "__main__":
    unittest.main()
