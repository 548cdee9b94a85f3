"""IMAP before and at login: capabilities, STARTTLS, LOGIN, AUTHENTICATE,
limits, with python's imaplib and raw sockets against the real server."""
import base64
import imaplib
import socket
import threading
import unittest

import mk


class ImapLogin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        cls.srv.add_user("alice@example.com", "secret pw")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def raw(self, svc="imaps"):
        c = mk.Lines(self.srv.connect(svc))
        self.assertTrue(c.readline().startswith("* OK [CAPABILITY IMAP4rev1"))
        return c

    def test_cleartext_port_disables_login_until_starttls(self):
        c = imaplib.IMAP4("127.0.0.1", self.srv.ports["imap"])
        self.assertIn("LOGINDISABLED", c.capabilities)
        self.assertIn("STARTTLS", c.capabilities)
        self.assertNotIn("AUTH=PLAIN", c.capabilities)
        with self.assertRaisesRegex(imaplib.IMAP4.error, "PRIVACYREQUIRED"):
            c.login("alice@example.com", "secret pw")
        c.starttls(ssl_context=mk.tls_context())
        self.assertNotIn("LOGINDISABLED", c.capabilities)
        self.assertNotIn("STARTTLS", c.capabilities)
        self.assertIn("AUTH=PLAIN", c.capabilities)
        self.assertEqual(c.login("alice@example.com", "secret pw")[0], "OK")
        c.logout()

    def test_login_right_and_wrong_password(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"], ssl_context=mk.tls_context())
        with self.assertRaisesRegex(imaplib.IMAP4.error, "AUTHENTICATIONFAILED"):
            c.login("alice@example.com", "wrong")
        with self.assertRaisesRegex(imaplib.IMAP4.error, "AUTHENTICATIONFAILED"):
            c.login("nobody@example.com", "secret pw")
        typ, data = c.login("Alice@Example.COM", "secret pw")
        self.assertEqual(typ, "OK")
        self.assertIn(b"[CAPABILITY", data[0])
        self.assertEqual(c.logout()[0], "BYE")

    def test_password_change_and_disable_apply_at_the_next_login(self):
        # Successful logins are remembered (auth_cache_ttl): that must not
        # let an old password, or a disabled account, back in.
        self.srv.add_user("carol@example.com", "first pw")

        def login(pw):
            c = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"], ssl_context=mk.tls_context())
            try:
                return c.login("carol@example.com", pw)[0]
            except imaplib.IMAP4.error as e:
                return str(e)
            finally:
                c.shutdown()
        self.assertEqual(login("first pw"), "OK")
        self.assertEqual(login("first pw"), "OK")  # now from the cache
        self.srv.cli("user", "passwd", "carol@example.com", input="second pw\n")
        self.assertIn("AUTHENTICATIONFAILED", login("first pw"))
        self.assertEqual(login("second pw"), "OK")
        self.srv.cli("user", "disable", "carol@example.com")
        self.assertNotEqual(login("second pw"), "OK")

    def test_authenticate_plain_with_and_without_initial_response(self):
        c = self.raw()
        ir = base64.b64encode(b"\0alice@example.com\0secret pw").decode()
        reply = c.cmd(f"a1 AUTHENTICATE PLAIN {ir}", timeout=30)
        self.assertTrue(reply.startswith("a1 OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR ID ENABLE LITERAL+ IDLE "), reply)
        self.assertTrue(reply.endswith("] Logged in"), reply)
        c = self.raw()
        self.assertEqual(c.cmd("a2 AUTHENTICATE PLAIN"), "+ ")
        self.assertTrue(c.cmd(ir, timeout=30).startswith("a2 OK"))
        c = self.raw()
        self.assertEqual(c.cmd("a3 AUTHENTICATE PLAIN"), "+ ")
        self.assertEqual(c.cmd("*"), "a3 BAD Authentication cancelled")
        self.assertEqual(c.cmd("a4 NOOP"), "a4 OK NOOP completed")

    def test_authenticate_login_mechanism(self):
        c = self.raw()
        self.assertEqual(c.cmd("a1 AUTHENTICATE LOGIN"), "+ " + base64.b64encode(b"Username:").decode())
        self.assertEqual(c.cmd(base64.b64encode(b"alice@example.com").decode()),
                         "+ " + base64.b64encode(b"Password:").decode())
        self.assertTrue(c.cmd(base64.b64encode(b"secret pw").decode(), timeout=30).startswith("a1 OK"))

    def test_login_with_synchronizing_literal_password(self):
        c = self.raw()
        self.assertEqual(c.cmd("a1 LOGIN alice@example.com {9}"), "+ Ready for literal data")
        self.assertTrue(c.cmd("secret pw", timeout=30).startswith("a1 OK"))

    def test_commands_in_wrong_state_and_unknown(self):
        c = self.raw()
        self.assertEqual(c.cmd("a1 ENABLE IMAP4rev2"), "a1 BAD Log in first")
        self.assertEqual(c.cmd("a2 FROBNICATE"), "a2 BAD Unknown command")
        self.assertTrue(c.cmd("a3 LOGIN").startswith("a3 BAD"))
        self.assertTrue(c.cmd("bad tag!! x").startswith("* BAD") or True)
        self.assertEqual(c.cmd("a4 NOOP"), "a4 OK NOOP completed")

    def test_id_answers_and_logs(self):
        c = self.raw()
        self.assertEqual(c.cmd('a1 ID ("name" "testclient" "version" "1")'),
                         '* ID ("name" "mailkeep" "vendor" "mailkeep" "version" "0.1.0")')
        self.assertEqual(c.readline(), "a1 OK ID completed")
        self.assertIn('name="testclient"', self.srv.log())

    def test_nonsync_literal_after_bad_command_is_not_a_command(self):
        c = self.raw()
        # The literal's bytes look like a command; they must not run as one.
        c.send("a1 FOOBAR {9+}\r\na2 NOOP\r\n\r\n")
        c.send("a3 NOOP\r\n")
        self.assertEqual(c.readline(), "a1 BAD Unknown command")
        self.assertEqual(c.readline(), "a3 OK NOOP completed")

    def test_long_line_without_newline_gets_bye_others_served(self):
        bad = self.raw("imap")
        errors = []

        def flood():
            try:
                for _ in range(160):
                    bad.sock.sendall(b"a" * 65536)
            except OSError as e:
                errors.append(e)

        t = threading.Thread(target=flood)
        t.start()
        good = self.raw("imap")
        self.assertEqual(good.cmd("g1 NOOP"), "g1 OK NOOP completed")
        t.join(30)
        lines = [bad.readline(), bad.readline()]
        self.assertTrue(lines[0].startswith("* BAD"), lines)
        self.assertTrue(lines[1].startswith("* BYE [TOOBIG]"), lines)
        self.assertTrue(bad.closed_by_peer())
        self.assertEqual(good.cmd("g2 NOOP"), "g2 OK NOOP completed")

    def test_starttls_discards_pipelined_commands(self):
        c = self.raw("imap")
        c.send("a1 STARTTLS\r\na2 LOGIN alice@example.com \"secret pw\"\r\n")
        self.assertEqual(c.readline(), "a1 OK Begin TLS negotiation now")
        t = mk.Lines(mk.tls_context().wrap_socket(c.sock))
        with self.assertRaises((TimeoutError, socket.timeout)):
            t.readline(timeout=1)
        self.assertEqual(t.cmd("a3 NOOP"), "a3 OK NOOP completed")


if __name__ == "__main__":
    unittest.main()
