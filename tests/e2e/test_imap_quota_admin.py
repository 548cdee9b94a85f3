"""QUOTA administration (RFC 9208) against the real server: an
administrator (`mailkeep user admin ADDRESS on`) sets and reads another
account's limits over IMAP, naming the root by the account's address; the
new limits hold at once for that user's open session on another worker
thread (APPEND -> NO [OVERQUOTA], LMTP -> 452); everyone else gets
NO [NOPERM] / [NONEXISTENT]; QUOTASET only for administrators."""
import smtplib
import unittest

import imap_raw
import mk


def msg(n, size=0):
    return (f"From: a@example.org\r\nSubject: m{n}\r\n\r\nbody {n}\r\n" + "x" * size).encode()


class QuotaAdmin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Two workers (mk's default); ids 1 and 2 hash to different ones
        # (runtime_worker_for_user), so the administrator's SETQUOTA on
        # root's worker must reach bob's session on the other.
        cls.srv = mk.Server(services=["imaps", "lmtp"])
        for name in ("root", "bob", "carol", "dave", "erin"):
            cls.srv.add_user(f"{name}@example.com", "pw")
        cls.srv.cli("user", "admin", "root@example.com", "on")
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def client(self, name):
        c = imap_raw.Client(self.srv.connect("imaps"))
        c.login(f"{name}@example.com", "pw")
        self.addCleanup(c.sock.close)
        return c

    def append(self, c, data, mailbox="INBOX"):
        c.n += 1
        tag = f"x{c.n}"
        c.send(f"{tag} APPEND {mailbox} {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
        while True:
            r = c.read_response()
            if r.startswith(tag.encode() + b" "):
                return r.decode().rstrip("\r\n")

    def quota_lines(self, untagged):
        return [u.decode().rstrip("\r\n") for u in untagged if u.startswith(b"* QUOTA ")]

    def test_admin_limits_take_effect_at_once_for_open_session(self):
        bob = self.client("bob")
        self.assertIn(" OK ", self.append(bob, msg(1)))   # bob's store is open now
        self.assertIn(" OK ", self.append(bob, msg(2)))
        bob.select()
        root = self.client("root")
        u = root.ok('SETQUOTA "bob@example.com" (STORAGE 64 MESSAGE 2)')
        self.assertEqual(self.quota_lines(u),
                         ['* QUOTA "bob@example.com" (STORAGE 1 64 MESSAGE 2 2)'])
        # No reconnect: the session opened before the change sees it. COPY
        # reads only the limits bob's worker holds: SETQUOTA put them there.
        self.assertRegex(bob.run("COPY 1 Trash")[1], r"^x\d+ NO \[OVERQUOTA\]")
        self.assertRegex(self.append(bob, msg(3)), r"^x\d+ NO \[OVERQUOTA\]")
        self.assertEqual(self.quota_lines(bob.ok('GETQUOTA ""')),
                         ['* QUOTA "" (STORAGE 1 64 MESSAGE 2 2)'])
        self.assertEqual(self.quota_lines(root.ok('GETQUOTA "bob@example.com"')),
                         ['* QUOTA "bob@example.com" (STORAGE 1 64 MESSAGE 2 2)'])
        # Delivery is refused too (at RCPT, temporarily).
        lmtp = smtplib.LMTP("127.0.0.1", self.srv.ports["lmtp"], timeout=10)
        self.addCleanup(lmtp.close)
        self.assertEqual(lmtp.docmd("LHLO", "mta.example")[0], 250)
        self.assertEqual(lmtp.mail("a@example.org")[0], 250)
        self.assertEqual(lmtp.rcpt("bob@example.com")[0], 452)
        lmtp.quit()
        # STORAGE alone: the MESSAGE limit is discarded (RFC 9208 4.1.3).
        u = root.ok('SETQUOTA "Bob@Example.COM" (STORAGE 3)')
        self.assertEqual(self.quota_lines(u), ['* QUOTA "Bob@Example.COM" (STORAGE 1 3)'])
        self.assertRegex(self.append(bob, msg(4, 4000)), r"^x\d+ NO \[OVERQUOTA\]")
        self.assertIn(" OK ", self.append(bob, msg(5)))
        # () removes every limit.
        self.assertEqual(self.quota_lines(root.ok('SETQUOTA "bob@example.com" ()')),
                         ['* QUOTA "bob@example.com" ()'])
        self.assertIn(" OK ", self.append(bob, msg(6, 4000)))
        self.assertEqual(self.quota_lines(bob.ok('GETQUOTA ""')), ['* QUOTA "" ()'])
        self.assertIn("unlimited", self.srv.cli("quota", "get", "bob@example.com").stdout)

    def test_admin_own_root_errors_and_quotaset(self):
        root = self.client("root")
        caps = root.ok("CAPABILITY")[0].decode()
        self.assertIn(" QUOTASET", caps)
        self.assertIn(" QUOTA=RES-STORAGE QUOTA=RES-MESSAGE", caps)
        u = root.ok('SETQUOTA "" (MESSAGE 10 STORAGE 100)')
        self.assertEqual(self.quota_lines(u), ['* QUOTA "" (STORAGE 0 100 MESSAGE 0 10)'])
        self.assertEqual(self.quota_lines(root.ok('GETQUOTA ""')),
                         ['* QUOTA "" (STORAGE 0 100 MESSAGE 0 10)'])
        self.assertIn("100K", self.srv.cli("quota", "get", "root@example.com").stdout)
        _, t = root.run('SETQUOTA "" (STORAGE 100 FILES 3)')
        self.assertRegex(t, r"NO \[CANNOT\] Unsupported resource")
        _, t = root.run('SETQUOTA "" (STORAGE 0)')
        self.assertRegex(t, r"NO \[CANNOT\] A limit of 0")
        _, t = root.run('SETQUOTA "nobody@example.com" (STORAGE 5)')
        self.assertRegex(t, r"NO \[NONEXISTENT\]")
        _, t = root.run('GETQUOTA "not an address"')
        self.assertRegex(t, r"NO \[NONEXISTENT\]")
        for bad in ('SETQUOTA "" (STORAGE)', 'SETQUOTA "" (STORAGE x)', 'SETQUOTA ""',
                    'SETQUOTA "" (STORAGE 1 STORAGE 2)'):
            self.assertRegex(root.run(bad)[1], r"^x\d+ BAD ", bad)
        # The unchanged settings of the other commands.
        u = root.ok("GETQUOTAROOT INBOX")
        self.assertEqual(u[0], b'* QUOTAROOT "INBOX" ""\r\n')
        self.assertEqual(self.quota_lines(root.ok('SETQUOTA "" ()')), ['* QUOTA "" ()'])

    def test_non_admin_is_refused(self):
        carol = self.client("carol")
        self.assertNotIn("QUOTASET", carol.ok("CAPABILITY")[0].decode())
        for cmd in ('SETQUOTA "" (STORAGE 100)', 'SETQUOTA "bob@example.com" (MESSAGE 1)',
                    'SETQUOTA "" (FILES 1)', 'SETQUOTA "" ()'):
            self.assertRegex(carol.run(cmd)[1], r"^x\d+ NO \[NOPERM\]", cmd)
        for root in ('"root@example.com"', '"nobody@example.com"', "other"):
            self.assertRegex(carol.run(f"GETQUOTA {root}")[1], r"^x\d+ NO \[NONEXISTENT\]")
        self.assertEqual(self.quota_lines(carol.ok('GETQUOTA ""')), ['* QUOTA "" ()'])

    def test_cli_admin_toggle(self):
        self.assertNotIn("admin", self.srv.cli("user", "list").stdout.split("erin@example.com")[1]
                         .splitlines()[0])
        out = self.srv.cli("user", "admin", "erin@example.com", "on").stdout
        self.assertIn("now an administrator", out)
        line = [l for l in self.srv.cli("user", "list").stdout.splitlines()
                if l.startswith("erin@example.com")][0]
        self.assertTrue(line.endswith("\tadmin"), line)
        erin = self.client("erin")
        self.assertIn("QUOTASET", erin.ok("CAPABILITY")[0].decode())
        self.assertEqual(self.quota_lines(erin.ok('GETQUOTA "dave@example.com"')),
                         ['* QUOTA "dave@example.com" ()'])
        self.srv.cli("user", "admin", "erin@example.com", "off")
        self.assertRegex(erin.run('SETQUOTA "dave@example.com" (MESSAGE 1)')[1], r"NO \[NOPERM\]")
        line = [l for l in self.srv.cli("user", "list").stdout.splitlines()
                if l.startswith("erin@example.com")][0]
        self.assertNotIn("admin", line)
        p = self.srv.cli("user", "admin", "nobody@example.com", "on", check=False)
        self.assertEqual(p.returncode, 1)
        p = self.srv.cli("user", "admin", "erin@example.com", "maybe", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("user admin ADDRESS on|off", p.stderr)
        self.assertIn("user admin ADDRESS on|off", self.srv.cli("help", check=False).stdout +
                      self.srv.cli("help", check=False).stderr)


if __name__ == "__main__":
    unittest.main()
