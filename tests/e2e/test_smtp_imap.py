"""Delivery seen over IMAP: a message submitted on 587 is read back with
imaplib byte for byte, and an IMAP session in IDLE hears of an LMTP
delivery at once."""
import imaplib
import smtplib
import time
import unittest

import mk
import smtpkit

MSG = (b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: over imap\r\n"
       b"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <i1@example.com>\r\n"
       b"\r\n.dot line\r\nbye\r\n")


class SmtpToImap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        cls.srv.add_user("alice@example.com", "alice pw")
        cls.srv.add_user("bob@example.com", "bob pw")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def imap(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"], ssl_context=mk.tls_context())
        self.addCleanup(c.shutdown)
        c.login("bob@example.com", "bob pw")
        return c

    def test_submitted_message_read_over_imap(self):
        s = smtplib.SMTP("127.0.0.1", self.srv.ports["submission"], timeout=10)
        s.starttls(context=mk.tls_context())
        s.login("alice@example.com", "alice pw")
        s.sendmail("alice@example.com", ["bob@example.com"], MSG)
        s.quit()
        c = self.imap()
        typ, data = c.select("INBOX")
        self.assertEqual(typ, "OK")
        n = int(data[0])
        typ, data = c.fetch(str(n), "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        body = data[0][1]
        received, rest = smtpkit.split_received(body)
        self.assertEqual(rest, MSG)
        self.assertIn(b"with ESMTPSA", received)

    def test_idle_sees_lmtp_delivery_at_once(self):
        c = self.imap()
        typ, data = c.select("INBOX")
        n = int(data[0])
        tag = c._new_tag()
        c.send(tag + b" IDLE\r\n")
        self.assertTrue(c.readline().startswith(b"+"))
        t0 = time.time()
        l = smtplib.LMTP("127.0.0.1", self.srv.ports["lmtp"], timeout=10)
        l.sendmail("x@remote.example", ["bob@example.com"],
                   MSG.replace(b"over imap", b"while idle"))
        l.quit()
        c.sock.settimeout(5)
        line = c.readline()
        self.assertEqual(line.strip(), b"* %d EXISTS" % (n + 1))
        self.assertLess(time.time() - t0, 3)
        c.send(b"DONE\r\n")
        while not c.readline().startswith(tag):
            pass


if __name__ == "__main__":
    unittest.main()
