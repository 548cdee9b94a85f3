"""Command-line tools over the store: deliver (sysexits codes) and check."""
import glob
import os
import subprocess
import unittest

import mk

MSG = b"From: a@example.org\r\nSubject: hello\r\n\r\nbody\r\n"


class Tools(unittest.TestCase):
    def setUp(self):
        self.srv = mk.Server()  # not started: the tools work on the data dir
        self.srv.add_user("alice@example.com", "pw")

    def tearDown(self):
        self.srv.__exit__(None, None, None)

    def run_cli(self, *args, input=None):
        return subprocess.run([mk.BIN, "--config", self.srv.config, *args], input=input,
                              capture_output=True, timeout=60)

    def test_deliver_exit_codes(self):
        self.assertEqual(self.run_cli("deliver", "alice@example.com", input=MSG).returncode, 0)
        p = self.run_cli("deliver", "nobody@example.com", input=MSG)
        self.assertEqual(p.returncode, 67, p.stderr)
        self.assertEqual(self.run_cli("deliver", input=MSG).returncode, 64)
        p = self.run_cli("deliver", "--mailbox", "No/Such", "alice@example.com", input=MSG)
        self.assertEqual(p.returncode, 73, p.stderr)

    def test_deliver_over_quota_is_temporary(self):
        self.run_cli("quota", "set", "alice@example.com", "0", "--messages", "1")
        self.assertEqual(self.run_cli("deliver", "alice@example.com", input=MSG).returncode, 0)
        p = self.run_cli("deliver", "alice@example.com", input=MSG + b"x")
        self.assertEqual(p.returncode, 75, p.stderr)
        self.assertIn(b"over quota", p.stderr)

    def test_check_finds_a_missing_blob(self):
        # Large: messages up to 64 KiB are kept inside store.db, not as files.
        self.run_cli("deliver", "alice@example.com", input=MSG + b"x" * 100000 + b"\r\n")
        p = self.run_cli("check", "--all")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(b"alice@example.com: ok", p.stdout)
        for f in glob.glob(os.path.join(self.srv.data, "users", "*", "blobs", "*", "*")):
            os.unlink(f)
        p = self.run_cli("check", "alice@example.com")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"error", p.stdout)
        self.assertIn(b"missing", p.stdout)


if __name__ == "__main__":
    unittest.main()
