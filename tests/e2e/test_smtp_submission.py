"""Submission (RFC 6409 on 587 with STARTTLS, RFC 8314 on 465): AUTH after
TLS, sender ownership, added header fields, local delivery into the store."""
import smtplib
import unittest

import mk
import smtpkit

MSG = (b"From: Alice <alice@example.com>\r\n"
       b"To: bob@example.com\r\n"
       b"Subject: hello\r\n"
       b"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n"
       b"Message-ID: <m1@example.com>\r\n"
       b"\r\n"
       b"Hello Bob.\r\n"
       b".a line that starts with a dot\r\n")


class Submission(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        cls.srv.add_user("alice@example.com", "alice pw")
        cls.srv.add_user("bob@example.com", "bob pw")
        cls.srv.cli("alias", "add", "a.liddell@example.com", "alice@example.com")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def submit(self, port="submission"):
        if port == "submissions":
            s = smtplib.SMTP_SSL("127.0.0.1", self.srv.ports[port], timeout=10,
                                 context=mk.tls_context())
        else:
            s = smtplib.SMTP("127.0.0.1", self.srv.ports[port], timeout=10)
            s.starttls(context=mk.tls_context())
        s.login("alice@example.com", "alice pw")
        return s

    def test_no_auth_before_tls_and_mail_needs_auth(self):
        s = smtplib.SMTP("127.0.0.1", self.srv.ports["submission"], timeout=10)
        s.ehlo()
        self.assertTrue(s.has_extn("starttls"))
        self.assertFalse(s.has_extn("auth"))
        self.assertEqual(s.docmd("AUTH", "PLAIN AGFsaWNlQGV4YW1wbGUuY29tAGFsaWNlIHB3")[0], 530)
        code, text = s.mail("alice@example.com")
        self.assertEqual((code, text[:5]), (530, b"5.7.0"))
        s.starttls(context=mk.tls_context())
        s.ehlo()
        self.assertIn("PLAIN", s.esmtp_features["auth"])
        self.assertFalse(s.has_extn("starttls"))
        self.assertEqual(s.mail("alice@example.com")[0], 530)
        s.login("alice@example.com", "alice pw")
        self.assertEqual(s.mail("alice@example.com")[0], 250)
        s.quit()

    def test_wrong_password(self):
        s = smtplib.SMTP("127.0.0.1", self.srv.ports["submission"], timeout=10)
        s.starttls(context=mk.tls_context())
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            s.login("alice@example.com", "wrong")
        self.assertEqual(cm.exception.smtp_code, 535)
        s.close()

    def test_submit_587_stores_received_plus_message(self):
        before = len(smtpkit.messages(self.srv, "bob@example.com"))
        s = self.submit()
        s.sendmail("alice@example.com", ["bob@example.com"], MSG)
        s.quit()
        msgs = smtpkit.messages(self.srv, "bob@example.com")
        self.assertEqual(len(msgs), before + 1)
        received, rest = smtpkit.split_received(msgs[-1])
        self.assertEqual(rest, MSG)
        self.assertIn(b"by mail.test", received)
        self.assertIn(b"with ESMTPSA", received)
        self.assertIn(b"for <bob@example.com>", received)
        self.assertEqual(smtpkit.spool_files(self.srv), [])

    def test_submit_465_implicit_tls(self):
        s = self.submit("submissions")
        s.sendmail("a.liddell@example.com", ["bob@example.com"],
                   MSG.replace(b"Subject: hello", b"Subject: via 465"))
        s.quit()
        self.assertIn(b"Subject: via 465", smtpkit.messages(self.srv, "bob@example.com")[-1])

    def test_date_and_message_id_added_when_missing(self):
        bare = b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: bare\r\n\r\nx\r\n"
        s = self.submit()
        s.sendmail("alice@example.com", ["bob@example.com"], bare)
        s.quit()
        msg = smtpkit.messages(self.srv, "bob@example.com")[-1]
        _, rest = smtpkit.split_received(msg)
        self.assertTrue(rest.endswith(bare))
        added = rest[:-len(bare)]
        self.assertRegex(added, rb"^Date: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n"
                                rb"Message-ID: <[0-9a-f.]+@mail\.test>\r\n$")

    def test_foreign_envelope_sender_refused(self):
        s = self.submit()
        code, text = s.mail("bob@example.com")
        self.assertEqual((code, text[:5]), (553, b"5.7.1"))
        self.assertEqual(s.mail("someone@elsewhere.org")[0], 553)
        self.assertEqual(s.mail("a.liddell@example.com")[0], 250)  # her alias
        s.rset()
        self.assertEqual(s.mail("<>")[0], 250)  # null sender (MDNs)
        s.quit()

    def test_foreign_from_header_refused_nothing_stored(self):
        before = len(smtpkit.messages(self.srv, "bob@example.com"))
        s = self.submit()
        forged = MSG.replace(b"From: Alice <alice@example.com>", b"From: Boss <boss@example.com>")
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            s.sendmail("alice@example.com", ["bob@example.com"], forged)
        self.assertEqual(cm.exception.smtp_code, 553)
        self.assertTrue(cm.exception.smtp_error.startswith(b"5.7.1"))
        # The session goes on: a good message after the refused one.
        s.sendmail("alice@example.com", ["bob@example.com"], MSG)
        s.quit()
        self.assertEqual(len(smtpkit.messages(self.srv, "bob@example.com")), before + 1)

    def test_remote_recipient_is_accepted_for_the_queue(self):
        # Delivery through the queue is tested in test_queue.py; here only
        # RCPT: a remote address is taken, an unknown local one is not.
        s = self.submit()
        s.mail("alice@example.com")
        self.assertEqual(s.rcpt("carol@remote.example"), (250, b"2.1.5 Ok"))
        self.assertEqual(s.rcpt("nobody@example.com")[0], 550)
        s.rset()
        s.quit()


class SubmissionOptions(unittest.TestCase):
    def test_plaintext_networks_offer_auth_without_tls(self):
        with mk.Server(plaintext_auth_networks="127.0.0.0/8") as srv:
            srv.add_user("alice@example.com", "pw")
            s = smtplib.SMTP("127.0.0.1", srv.ports["submission"], timeout=10)
            s.ehlo()
            self.assertTrue(s.has_extn("auth"))
            s.login("alice@example.com", "pw")
            s.sendmail("alice@example.com", ["alice@example.com"], MSG)
            s.quit()
            received, _ = smtpkit.split_received(smtpkit.messages(srv, "alice@example.com")[0])
            self.assertIn(b"with ESMTPA", received)

    def test_save_sent(self):
        with mk.Server(submission_save_sent="yes") as srv:
            srv.add_user("alice@example.com", "pw")
            srv.add_user("bob@example.com", "pw")
            s = smtplib.SMTP_SSL("127.0.0.1", srv.ports["submissions"], timeout=10,
                                 context=mk.tls_context())
            s.login("alice@example.com", "pw")
            s.sendmail("alice@example.com", ["bob@example.com"], MSG)
            s.quit()
            self.assertEqual(len(smtpkit.messages(srv, "bob@example.com")), 1)
            sent = smtpkit.messages(srv, "alice@example.com", "Sent")
            self.assertEqual(len(sent), 1)
            self.assertTrue(sent[0].endswith(b"Hello Bob.\r\n.a line that starts with a dot\r\n"))
            self.assertEqual(smtpkit.messages(srv, "alice@example.com"), [])


if __name__ == "__main__":
    unittest.main()
