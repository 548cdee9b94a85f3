"""Real SMTP clients against the server: swaks and curl (smtp://, smtps://)
on submission, swaks on inbound port 25."""
import os
import shutil
import subprocess
import tempfile
import unittest

import mk
import smtpkit

MSG = (b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: by curl\r\n"
       b"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <c1@example.com>\r\n"
       b"\r\nline 1\r\n.line 2 starts with a dot\r\n")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL, **kw)


class Clients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        cls.srv.add_user("alice@example.com", "alice pw")
        cls.srv.add_user("bob@example.com", "bob pw")
        cls.tmp = tempfile.mkdtemp(prefix="mk-smtp-")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def count(self):
        return len(smtpkit.messages(self.srv, "bob@example.com"))

    @unittest.skipUnless(shutil.which("swaks"), "swaks not installed")
    def test_swaks_submission_starttls_auth(self):
        n = self.count()
        p = run(["swaks", "--server", "127.0.0.1", "--port", str(self.srv.ports["submission"]),
                 "--tls", "--auth", "PLAIN", "--auth-user", "alice@example.com",
                 "--auth-password", "alice pw", "--from", "alice@example.com",
                 "--to", "bob@example.com", "--header", "Subject: by swaks 587",
                 "--h-From", "alice@example.com", "--pipeline"])
        self.assertEqual(p.returncode, 0, p.stdout.decode(errors="replace"))
        self.assertEqual(self.count(), n + 1)
        self.assertIn(b"Subject: by swaks 587", smtpkit.messages(self.srv, "bob@example.com")[-1])

    @unittest.skipUnless(shutil.which("swaks"), "swaks not installed")
    def test_swaks_submissions_implicit_tls_auth_login(self):
        n = self.count()
        p = run(["swaks", "--server", "127.0.0.1", "--port", str(self.srv.ports["submissions"]),
                 "--tls-on-connect", "--auth", "LOGIN", "--auth-user", "alice@example.com",
                 "--auth-password", "alice pw", "--from", "alice@example.com",
                 "--to", "bob@example.com", "--h-From", "alice@example.com"])
        self.assertEqual(p.returncode, 0, p.stdout.decode(errors="replace"))
        self.assertEqual(self.count(), n + 1)

    @unittest.skipUnless(shutil.which("swaks"), "swaks not installed")
    def test_swaks_inbound_and_relay_refused(self):
        n = self.count()
        p = run(["swaks", "--server", "127.0.0.1", "--port", str(self.srv.ports["smtp"]),
                 "--from", "someone@remote.example", "--to", "bob@example.com"])
        self.assertEqual(p.returncode, 0, p.stdout.decode(errors="replace"))
        self.assertEqual(self.count(), n + 1)
        p = run(["swaks", "--server", "127.0.0.1", "--port", str(self.srv.ports["smtp"]),
                 "--from", "bob@example.com", "--to", "victim@remote.example"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"554 5.7.1", p.stdout)
        # Submission without AUTH is refused too.
        p = run(["swaks", "--server", "127.0.0.1", "--port", str(self.srv.ports["submission"]),
                 "--tls", "--from", "alice@example.com", "--to", "bob@example.com"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"530 5.7.0", p.stdout)

    def curl(self, url, extra=()):
        path = os.path.join(self.tmp, "msg.eml")
        with open(path, "wb") as f:
            f.write(MSG)
        return run(["curl", "-sS", "-k", "--max-time", "30", url, "--user",
                    "alice@example.com:alice pw", "--mail-from", "alice@example.com",
                    "--mail-rcpt", "bob@example.com", "--upload-file", path, *extra])

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_smtp_starttls(self):
        n = self.count()
        p = self.curl("smtp://127.0.0.1:%d" % self.srv.ports["submission"], ["--ssl-reqd"])
        self.assertEqual(p.returncode, 0, p.stderr)
        msgs = smtpkit.messages(self.srv, "bob@example.com")
        self.assertEqual(len(msgs), n + 1)
        self.assertEqual(smtpkit.split_received(msgs[-1])[1], MSG)

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_smtps(self):
        n = self.count()
        p = self.curl("smtps://127.0.0.1:%d" % self.srv.ports["submissions"])
        self.assertEqual(p.returncode, 0, p.stderr)
        msgs = smtpkit.messages(self.srv, "bob@example.com")
        self.assertEqual(len(msgs), n + 1)
        self.assertEqual(smtpkit.split_received(msgs[-1])[1], MSG)


if __name__ == "__main__":
    unittest.main()
