"""LMTP (RFC 2033): LHLO, one reply per recipient after the message, with
python's smtplib.LMTP and raw conversations."""
import os
import shutil
import smtplib
import socket
import tempfile
import unittest

import mk
import smtpkit

MSG = (b"From: list@remote.example\r\nTo: many\r\nSubject: lmtp\r\n"
       b"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <l@remote.example>\r\n"
       b"\r\nhello\r\n")


class Lmtp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        for u in ("alice", "bob", "carol"):
            cls.srv.add_user(u + "@example.com", "pw")
        cls.srv.cli("quota", "set", "carol@example.com", "1K")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def raw(self):
        r = smtpkit.Raw(self.srv, "lmtp")
        self.addCleanup(r.close)
        self.assertEqual(r.greeting[0], 220)
        self.assertIn("LMTP", r.greeting[1][0])
        return r

    def count(self, a):
        return len(smtpkit.messages(self.srv, a))

    def test_three_recipients_one_unknown_per_recipient_replies(self):
        a0, b0 = self.count("alice@example.com"), self.count("bob@example.com")
        r = self.raw()
        self.assertEqual(r.cmd("LHLO mta.example")[0], 250)
        self.assertEqual(r.code("MAIL FROM:<list@remote.example>"), 250)
        self.assertEqual(r.code("RCPT TO:<alice@example.com>"), 250)
        self.assertEqual(r.code("RCPT TO:<nobody@example.com>"), 550)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 250)
        self.assertEqual(r.code("DATA"), 354)
        r.send(MSG + b".\r\n")
        first, second = r.reply(), r.reply()
        self.assertEqual(first, (250, ["2.0.0 <alice@example.com> Ok: delivered"]))
        self.assertEqual(second, (250, ["2.0.0 <bob@example.com> Ok: delivered"]))
        self.assertEqual(r.code("NOOP"), 250)
        self.assertEqual(self.count("alice@example.com"), a0 + 1)
        self.assertEqual(self.count("bob@example.com"), b0 + 1)
        received, rest = smtpkit.split_received(smtpkit.messages(self.srv, "bob@example.com")[-1])
        self.assertEqual(rest, MSG)
        self.assertIn(b"with LMTP", received)
        self.assertNotIn(b"for <", received)  # several recipients: not disclosed

    def test_smtplib_lmtp_and_over_quota_recipient(self):
        big = MSG + b"x" * 2000 + b"\r\n"
        c = smtplib.LMTP("127.0.0.1", self.srv.ports["lmtp"], timeout=10)
        self.addCleanup(c.close)
        b0 = self.count("bob@example.com")
        # smtplib.LMTP reads only the first per-recipient reply; talk directly.
        code, _ = c.docmd("LHLO", "mta.example")
        self.assertEqual(code, 250)
        self.assertEqual(c.mail("list@remote.example")[0], 250)
        self.assertEqual(c.rcpt("bob@example.com")[0], 250)
        self.assertEqual(c.rcpt("carol@example.com")[0], 250)
        self.assertEqual(c.docmd("DATA")[0], 354)
        c.send(big.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        self.assertEqual(c.getreply()[0], 250)       # bob
        code, text = c.getreply()                     # carol: full
        self.assertEqual((code, text[:5]), (452, b"4.2.2"))
        self.assertEqual(self.count("bob@example.com"), b0 + 1)
        self.assertEqual(self.count("carol@example.com"), 0)
        c.quit()

    def test_smtplib_lmtp_sendmail(self):
        a0 = self.count("alice@example.com")
        c = smtplib.LMTP("127.0.0.1", self.srv.ports["lmtp"], timeout=10)
        self.addCleanup(c.close)
        self.assertEqual(c.sendmail("list@remote.example", ["alice@example.com"], MSG), {})
        c.quit()
        self.assertEqual(self.count("alice@example.com"), a0 + 1)

    def test_bdat_per_recipient_replies(self):
        r = self.raw()
        self.assertEqual(r.cmd("LHLO mta.example")[0], 250)
        self.assertEqual(r.code("MAIL FROM:<>"), 250)
        self.assertEqual(r.code("RCPT TO:<alice@example.com>"), 250)
        self.assertEqual(r.code("RCPT TO:<bob@example.com>"), 250)
        r.send(b"BDAT %d LAST\r\n" % len(MSG) + MSG)
        self.assertEqual([r.reply()[0], r.reply()[0]], [250, 250])
        self.assertEqual(r.code("NOOP"), 250)

    def test_lmtp_needs_lhlo(self):
        r = self.raw()
        self.assertEqual(r.code("EHLO mta.example"), 500)
        self.assertEqual(r.code("HELO mta.example"), 500)
        self.assertEqual(r.code("MAIL FROM:<>"), 503)
        self.assertEqual(r.cmd("LHLO mta.example")[0], 250)
        self.assertEqual(r.code("RCPT TO:<x@remote.example>"), 503)
        self.assertEqual(r.code("MAIL FROM:<>"), 250)
        self.assertEqual(r.code("RCPT TO:<x@remote.example>"), 554)


class LmtpConcurrent(unittest.TestCase):
    def test_four_connections_pipelining_across_workers(self):
        import threading
        users = ["u%d@example.com" % i for i in range(6)]
        with mk.Server(workers=3) as srv:
            for u in users:
                srv.add_user(u, "pw")
            errors = []

            def client(k):
                try:
                    r = smtpkit.Raw(srv, "lmtp")
                    r.cmd("LHLO c%d.example" % k)
                    batch = b""
                    for i in range(20):
                        batch += b"MAIL FROM:<x@remote.example>\r\n"
                        for u in users[k % 3::2]:
                            batch += b"RCPT TO:<%s>\r\n" % u.encode()
                        batch += b"DATA\r\n" + MSG + b"k=%d i=%d\r\n.\r\n" % (k, i)
                    r.send(batch)
                    nr = len(users[k % 3::2])
                    for i in range(20):
                        codes = [r.reply(30)[0] for _ in range(1 + nr + 1 + nr)]
                        if codes != [250] * (1 + nr) + [354] + [250] * nr:
                            errors.append((k, i, codes))
                    r.close()
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append((k, repr(e)))

            ts = [threading.Thread(target=client, args=(k,)) for k in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(120)
            self.assertEqual(errors, [])
            want = {u: 0 for u in users}
            for k in range(4):
                for u in users[k % 3::2]:
                    want[u] += 20
            got = {u: len(smtpkit.messages(srv, u)) for u in users}
            self.assertEqual(got, want)
            self.assertEqual(smtpkit.spool_files(srv), [])


class LmtpUnixSocket(unittest.TestCase):
    def test_delivery_over_a_unix_socket_and_postmaster(self):
        tmp = tempfile.mkdtemp(prefix="mk-lmtp-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "lmtp.sock")
        with mk.Server(tmp=tmp, lmtp_listen="unix:" + path, domains="example.com") as srv:
            srv.add_user("alice@example.com", "pw")
            srv.add_user("pm@example.com", "pw")
            srv.cli("alias", "add", "postmaster@example.com", "pm@example.com")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(10)
            sock.connect(path)
            r = smtpkit.Raw.__new__(smtpkit.Raw)
            r.lines = mk.Lines(sock)
            self.addCleanup(r.close)
            self.assertEqual(r.reply()[0], 220)
            self.assertEqual(r.cmd("LHLO mta.example")[0], 250)
            self.assertEqual(r.code("MAIL FROM:<list@remote.example>"), 250)
            self.assertEqual(r.code("RCPT TO:<alice@example.com>"), 250)
            self.assertEqual(r.code("RCPT TO:<Postmaster>"), 250)
            self.assertEqual(r.code("DATA"), 354)
            r.send(MSG + b".\r\n")
            self.assertEqual([r.reply()[0], r.reply()[0]], [250, 250])
            received, rest = smtpkit.split_received(smtpkit.messages(srv, "alice@example.com")[0])
            self.assertEqual(rest, MSG)
            self.assertIn(b"([local])", received)
            self.assertEqual(len(smtpkit.messages(srv, "pm@example.com")), 1)


if __name__ == "__main__":
    unittest.main()
