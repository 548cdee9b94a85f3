"""curl as an IMAP client (imap:// with STARTTLS and imaps://): LIST,
EXAMINE, message by UID, SEARCH through URLs, a modified UTF-7 name."""
import shutil
import subprocess
import unittest

import imapt
import mk


@unittest.skipUnless(shutil.which("curl"), "curl not installed")
class ImapCurl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        cls.srv.add_user("curl@example.com", "pw")
        c = imapt.Client(cls.srv, "curl@example.com", "pw")
        c.append("INBOX", imapt.msg("curl-one", body="hello curl\r\n"))
        c.ok('CREATE "Sm&APY-rg"')
        c.ok("LOGOUT")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def curl(self, url, *extra, svc="imaps"):
        p = subprocess.run(["curl", "-sS", "-k", "--max-time", "20", "--user", "curl@example.com:pw",
                            *extra, f"{svc}://127.0.0.1:{self.srv.ports[svc]}{url}"],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.decode()

    def test_list(self):
        out = self.curl("/")
        self.assertIn('* LIST (\\HasNoChildren) "/" "INBOX"', out)
        self.assertIn('* LIST (\\HasNoChildren \\Sent) "/" "Sent"', out)
        self.assertIn('"Sm&APY-rg"', out)
        self.assertEqual(self.curl("/Sm%26APY-rg").strip(), '* LIST (\\HasNoChildren) "/" "Sm&APY-rg"')

    def test_fetch_message_by_uid_and_search(self):
        out = self.curl("/INBOX;UID=1")
        self.assertIn("Subject: curl-one", out)
        self.assertIn("hello curl", out)
        self.assertEqual(self.curl("/INBOX?ALL").strip(), "* SEARCH 1")

    def test_examine_over_starttls(self):
        out = self.curl("/", "--ssl-reqd", "-X", "EXAMINE INBOX", svc="imap")
        self.assertIn("* 1 EXISTS", out)
        self.assertIn("[UIDNEXT 2]", out)
        self.assertIn("[PERMANENTFLAGS ()]", out)


if __name__ == "__main__":
    unittest.main()
