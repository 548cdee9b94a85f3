"""The account commands of the real binary: mailkeep user|domain|alias|quota.

Runs `mailkeep --data DIR ...` on a temporary data directory (no server),
with passwords given on standard input, and checks results the way an
operator would: the command output, exit statuses, and accounts.db itself.
"""
import os
import pty
import select
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import unittest

BIN = os.environ.get("MAILKEEP_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "debug", "mailkeep")


class CliAccounts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mk-cli-")
        # Not created yet: the commands must create it (0700).
        self.data = os.path.join(self.tmp, "data")
        # Our own config: never a system one; and no run-as user, so the
        # commands do not try to switch to one when the tests run as root.
        self.config = os.path.join(self.tmp, "mailkeep.conf")
        with open(self.config, "w") as f:
            f.write("user =\n")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def mk(self, *args, stdin=""):
        return subprocess.run([BIN, "--config", self.config, "--data", self.data, *args],
                              input=stdin, capture_output=True, text=True, timeout=60)

    def ok(self, *args, stdin=""):
        p = self.mk(*args, stdin=stdin)
        self.assertEqual(p.returncode, 0, f"{args}: {p.stdout}{p.stderr}")
        return p.stdout

    def db(self):
        return sqlite3.connect(os.path.join(self.data, "accounts.db"))

    def test_cli_user_add_list_and_argon2id_hash(self):
        self.ok("user", "add", "a@example.com", stdin="pa55 word\n")
        st = os.stat(self.data)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        self.assertIn("a@example.com", self.ok("user", "list"))
        with self.db() as db:
            (h,) = db.execute("SELECT password_hash FROM accounts WHERE address = ?",
                              ("a@example.com",)).fetchone()
        self.assertTrue(h.startswith("$argon2id$v=19$"), h)
        self.assertNotIn("pa55", h)
        # The domain came with the user.
        self.assertEqual(self.ok("domain", "list").split(), ["example.com"])

    def test_cli_duplicate_and_bad_address_fail(self):
        self.ok("user", "add", "a@example.com", stdin="one\n")
        p = self.mk("user", "add", "A@EXAMPLE.COM", stdin="two\n")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("exists", p.stderr)
        for bad in ["a", "a b@example.com", "a/b@example.com", "a@", "@example.com"]:
            p = self.mk("user", "add", bad, stdin="pw\n")
            self.assertNotEqual(p.returncode, 0, bad)
            self.assertTrue(p.stderr.startswith("mailkeep: "), p.stderr)
        p = self.mk("user", "del", "nobody@example.com")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no account", p.stderr)
        # No password on stdin: refused, nothing added.
        p = self.mk("user", "add", "b@example.com", stdin="")
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("b@example.com", self.ok("user", "list"))

    def test_cli_password_line_is_stripped_and_changeable(self):
        self.ok("user", "add", "c@example.com", stdin="first\r\n")
        with self.db() as db:
            (h1,) = db.execute("SELECT password_hash FROM accounts").fetchone()
        self.ok("user", "passwd", "C@example.com", stdin="second\n")
        with self.db() as db:
            (h2,) = db.execute("SELECT password_hash FROM accounts").fetchone()
        self.assertNotEqual(h1, h2)
        self.assertNotEqual(self.mk("user", "passwd", "x@example.com", stdin="p\n").returncode, 0)

    def test_cli_disable_enable_and_delete(self):
        self.ok("user", "add", "d@example.com", stdin="pw\n")
        self.ok("user", "disable", "d@example.com")
        self.assertIn("disabled", self.ok("user", "list"))
        self.ok("user", "enable", "d@example.com")
        self.assertNotIn("disabled", self.ok("user", "list"))
        self.ok("user", "del", "d@example.com")
        self.assertEqual(self.ok("user", "list"), "")

    def test_cli_quota_set_get_round_trip(self):
        self.ok("user", "add", "q@example.com", stdin="pw\n")
        out = self.ok("quota", "get", "q@example.com")
        self.assertIn("storage: unlimited", out)
        self.assertIn("messages: unlimited", out)
        self.ok("quota", "set", "q@example.com", "10G", "--messages", "5000")
        out = self.ok("quota", "get", "q@example.com")
        self.assertIn("storage: 10G (10737418240 bytes)", out)
        self.assertIn("messages: 5000", out)
        with self.db() as db:
            row = db.execute("SELECT quota_bytes, quota_messages FROM accounts").fetchone()
        self.assertEqual(row, (10 * 1024 ** 3, 5000))
        # SIZE alone keeps the message limit; "unlimited" clears the size.
        self.ok("quota", "set", "q@example.com", "unlimited")
        out = self.ok("quota", "get", "q@example.com")
        self.assertIn("storage: unlimited", out)
        self.assertIn("messages: 5000", out)
        self.assertEqual(self.mk("quota", "set", "q@example.com", "10X").returncode, 2)
        self.assertNotEqual(self.mk("quota", "get", "nobody@example.com").returncode, 0)

    def test_cli_alias_and_catch_all(self):
        self.ok("user", "add", "boss@example.com", stdin="pw\n")
        self.ok("alias", "add", "postmaster@example.com", "boss@example.com")
        self.ok("alias", "add", "@example.org", "boss@example.com")
        lines = self.ok("alias", "list").splitlines()
        self.assertIn("postmaster@example.com\tboss@example.com", lines)
        self.assertIn("@example.org\tboss@example.com", lines)
        p = self.mk("alias", "add", "x@example.com", "nobody@example.com")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not a local account", p.stderr)
        self.assertNotEqual(self.mk("alias", "add", "postmaster@example.com",
                                    "boss@example.com").returncode, 0)
        self.ok("alias", "del", "postmaster@example.com")
        self.assertNotIn("postmaster", self.ok("alias", "list"))
        self.assertNotEqual(self.mk("alias", "del", "postmaster@example.com").returncode, 0)

    def test_cli_domains(self):
        self.ok("domain", "add", "Example.NET")
        self.assertIn("example.net", self.ok("domain", "list").split())
        self.assertNotEqual(self.mk("domain", "add", "example.net").returncode, 0)
        self.ok("user", "add", "u@example.net", stdin="pw\n")
        p = self.mk("domain", "del", "example.net")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("delete them first", p.stderr)
        self.ok("user", "del", "u@example.net")
        self.ok("domain", "del", "example.net")
        self.assertEqual(self.ok("domain", "list"), "")

    def add_on_terminal(self, address, first, second):
        """`user add` with stdin a terminal: answer the two prompts."""
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen(
                [BIN, "--config", self.config, "--data", self.data, "user", "add", address],
                stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            os.close(slave)
            err = b""
            for answer, prompt in ((first, b"New password"), (second, b"Repeat")):
                while prompt not in err:
                    r, _, _ = select.select([proc.stderr], [], [], 20)
                    self.assertTrue(r, f"no prompt {prompt!r}; stderr so far {err!r}")
                    chunk = os.read(proc.stderr.fileno(), 1024)
                    self.assertTrue(chunk, f"stderr closed early: {err!r}")
                    err += chunk
                os.write(master, answer.encode() + b"\n")
            out, rest = proc.communicate(timeout=30)
            echoed = b""
            while select.select([master], [], [], 0)[0]:
                try:
                    data = os.read(master, 1024)
                except OSError:
                    break
                if not data:
                    break
                echoed += data
            return proc.returncode, out.decode(), (err + rest).decode(), echoed
        finally:
            os.close(master)

    def test_cli_terminal_prompts_twice_without_echo(self):
        rc, out, err, echoed = self.add_on_terminal("t@example.com", "hunter2", "hunter2")
        self.assertEqual(rc, 0, err)
        self.assertIn("added t@example.com", out)
        self.assertNotIn(b"hunter2", echoed)
        rc, out, err, _ = self.add_on_terminal("u@example.com", "one", "two")
        self.assertNotEqual(rc, 0)
        self.assertIn("do not match", err)
        self.assertNotIn("u@example.com", self.ok("user", "list"))

    def test_cli_usage_errors_exit_2(self):
        self.assertEqual(self.mk("user").returncode, 2)
        self.assertEqual(self.mk("user", "frobnicate", "a@example.com").returncode, 2)
        self.assertEqual(self.mk("alias", "add", "only-one@example.com").returncode, 2)
        self.assertEqual(self.mk("quota", "get").returncode, 2)
        # The password is never taken from the command line.
        self.assertEqual(self.mk("user", "add", "a@example.com", "secret").returncode, 2)


if __name__ == "__main__":
    unittest.main()
