"""Live sync: an IMAP client in IDLE sees, within a bounded time, what
another IMAP client, a POP3 session and `mailkeep deliver` (another
process, seen by the idling session's 1 s store poll) change; IDLE ends
with DONE, and an IDLE that outlasts the autologout gets BYE."""
import poplib
import subprocess
import time
import unittest

import imapt
import mk

# Same thread (IMAP, POP3 of the same user): pushed at once. The bound is
# generous for loaded CI machines and ASan; typical latency is ~1 ms.
PUSH_BOUND = 0.5
# Another process: the idling session polls the store every second.
POLL_BOUND = 3.0


class ImapIdle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        for i in range(1, 10):
            cls.srv.add_user(f"i{i}@example.com", "pw")
        cls.users = 0

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def pair(self):
        type(self).users += 1
        user = f"i{self.users}@example.com"
        return user, imapt.Client(self.srv, user, "pw"), imapt.Client(self.srv, user, "pw")

    def start_idle(self, c):
        c.idle_tag = c.tag()
        c.send(f"{c.idle_tag} IDLE\r\n")
        self.assertEqual(c.readline(), "+ idling")

    def expect(self, c, pattern, bound):
        """The next untagged line during IDLE matches pattern within bound s."""
        import re
        t0 = time.time()
        line = c.readline(timeout=bound + 2)
        took = time.time() - t0
        self.assertRegex(line, pattern)
        self.assertLess(took, bound, f"{line!r} took {took:.3f}s")
        return line

    def stop_idle(self, c):
        c.send("DONE\r\n")
        u, t = c.collect(c.idle_tag)
        self.assertEqual(t, f"{c.idle_tag} OK IDLE terminated")
        return u

    def test_idler_sees_append_flags_move_expunge(self):
        user, a, b = self.pair()
        b.append("INBOX", imapt.msg("first"))
        a.ok("SELECT INBOX")
        b.ok("SELECT INBOX")
        self.start_idle(a)
        b.append("INBOX", imapt.msg("second"))
        self.expect(a, r"^\* 2 EXISTS$", PUSH_BOUND)
        self.expect(a, r"^\* 1 RECENT$", PUSH_BOUND)
        b.ok("STORE 1 +FLAGS (\\Flagged)")
        self.expect(a, r"^\* 1 FETCH \(FLAGS \(\\Flagged \\Recent\)\)$", PUSH_BOUND)
        b.ok("MOVE 1 Archive")
        self.expect(a, r"^\* 1 EXPUNGE$", PUSH_BOUND)
        b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        # \Recent went to whichever session saw the message first
        self.expect(a, r"^\* 1 FETCH \(FLAGS \(\\Deleted( \\Recent)?\)\)$", PUSH_BOUND)
        b.ok("EXPUNGE")
        self.expect(a, r"^\* 1 EXPUNGE$", PUSH_BOUND)
        self.assertEqual(self.stop_idle(a), [])
        u, _ = a.ok("NOOP")
        self.assertEqual(u, [])

    def test_qresync_idler_gets_vanished_and_modseq(self):
        user, a, b = self.pair()
        for s in "ab":
            b.append("INBOX", imapt.msg(s))
        a.ok("ENABLE QRESYNC")
        a.ok("SELECT INBOX")
        b.ok("SELECT INBOX")
        self.start_idle(a)
        b.ok("STORE 2 +FLAGS (\\Seen)")
        self.expect(a, r"^\* 2 FETCH \(UID 2 FLAGS \(\\Seen( \\Recent)?\) MODSEQ \(\d+\)\)$", PUSH_BOUND)
        b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.expect(a, r"^\* 1 FETCH \(UID 1 FLAGS \(\\Deleted( \\Recent)?\) MODSEQ \(\d+\)\)$", PUSH_BOUND)
        b.ok("EXPUNGE")
        self.expect(a, r"^\* VANISHED 1$", PUSH_BOUND)
        self.stop_idle(a)

    def test_pop3_dele_quit_seen_by_idler(self):
        user, a, b = self.pair()
        for s in "ab":
            b.append("INBOX", imapt.msg(s))
        a.ok("SELECT INBOX")
        self.start_idle(a)
        p = poplib.POP3_SSL("127.0.0.1", self.srv.ports["pop3s"], context=mk.tls_context(), timeout=20)
        p.user(user)
        p.pass_("pw")
        p.dele(1)
        p.quit()
        self.expect(a, r"^\* 1 EXPUNGE$", PUSH_BOUND)
        self.stop_idle(a)

    def test_deliver_from_another_process_seen_by_idler(self):
        user, a, b = self.pair()
        a.ok("SELECT INBOX")
        self.start_idle(a)
        t0 = time.time()
        p = subprocess.run([mk.BIN, "--config", self.srv.config, "deliver", user],
                           input=imapt.msg("delivered").encode(), capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.expect(a, r"^\* 1 EXISTS$", POLL_BOUND)
        self.assertLess(time.time() - t0, POLL_BOUND + 1)
        self.stop_idle(a)

    def test_selected_mailbox_deleted_by_another_session(self):
        user, a, b = self.pair()
        b.ok("CREATE Tmp")
        a.ok("SELECT Tmp")
        self.start_idle(a)
        b.ok("DELETE Tmp")
        self.expect(a, r"^\* BYE ", PUSH_BOUND)
        self.assertTrue(a.c.closed_by_peer(5))
        # the deleting session itself, with Tmp selected, is just deselected
        b.ok("CREATE Tmp2")
        b.ok("SELECT Tmp2")
        b.ok("DELETE Tmp2")
        self.assertIn("BAD", b.cmd("CLOSE")[1])

    def test_idle_not_done_is_bad_and_session_goes_on(self):
        user, a, b = self.pair()
        self.start_idle(a)          # IDLE without a selected mailbox is fine
        a.send("NOPE\r\n")
        u, t = a.collect(a.idle_tag)
        self.assertIn(" BAD ", t)
        a.ok("NOOP")
        self.assertIn("BAD", a.cmd("IDLE now")[1])


class ImapIdleAutologout(unittest.TestCase):
    def test_idle_outlasting_autologout_gets_bye(self):
        with mk.Server(imap_idle_timeout="2s") as srv:
            srv.add_user("z@example.com", "pw")
            c = imapt.Client(srv, "z@example.com", "pw")
            c.ok("SELECT INBOX")
            c.send("i IDLE\r\n")
            self.assertEqual(c.readline(), "+ idling")
            t0 = time.time()
            line = c.readline(timeout=10)
            self.assertTrue(line.startswith("* BYE"), line)
            self.assertGreater(time.time() - t0, 1.0)
            self.assertTrue(c.c.closed_by_peer(5))

    def test_server_shutdown_ends_idle_at_once(self):
        with mk.Server() as srv:
            srv.add_user("sd@example.com", "pw")
            c = imapt.Client(srv, "sd@example.com", "pw")
            c.ok("SELECT INBOX")
            c.send("i IDLE\r\n")
            self.assertEqual(c.readline(), "+ idling")
            rc, took = srv.stop()
            self.assertEqual(rc, 0)
            self.assertLess(took, 3)
            self.assertTrue(c.readline().startswith("* BYE [UNAVAILABLE]"))


class ImapIdleBackPressure(unittest.TestCase):
    def test_mass_update_to_a_slow_idler_is_complete_and_bounded(self):
        """500 flag changes then 500 expunges for an idler that does not
        read at first: output stays bounded (4 KiB limit) and the idler
        still gets every update, in order, once it reads."""
        with mk.Server(output_buffer_limit="4K") as srv:
            srv.add_user("bp@example.com", "pw")
            a = imapt.Client(srv, "bp@example.com", "pw")
            b = imapt.Client(srv, "bp@example.com", "pw")
            m = imapt.msg("x").encode()
            n = 500
            tag = b.tag()
            parts = [f"{tag} APPEND INBOX".encode()]
            for _ in range(n):
                parts.append(f" {{{len(m)}+}}\r\n".encode() + m)
            b.send(b"".join(parts) + b"\r\n")
            self.assertIn("OK", b.collect(tag, timeout=60)[1])
            a.ok("SELECT INBOX")
            a.send("i IDLE\r\n")
            self.assertEqual(a.readline(), "+ idling")
            b.ok("SELECT INBOX")
            b.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)", timeout=60)
            b.ok("EXPUNGE", timeout=60)
            time.sleep(0.5)
            self.assertLess(srv.rss_kib(), 200 * 1024)
            fetches = expunges = 0
            while expunges < n:
                line = a.readline(timeout=20)
                if " FETCH " in line:
                    self.assertEqual(expunges, 0, line)
                    fetches += 1
                elif line == "* 1 EXPUNGE":
                    expunges += 1
                else:
                    self.fail(line)
            self.assertEqual(fetches, n)
            a.send("DONE\r\n")
            self.assertEqual(a.readline(), "i OK IDLE terminated")
            u, _ = a.ok("NOOP")
            self.assertEqual(u, [])


    def test_big_store_answer_streams_under_back_pressure(self):
        """STORE 1:* on 800 messages answers with 800 FETCH lines; with a
        4 KiB output limit they go out as the client reads."""
        with mk.Server(output_buffer_limit="4K") as srv:
            srv.add_user("st@example.com", "pw")
            c = imapt.Client(srv, "st@example.com", "pw")
            m = imapt.msg("x").encode()
            n = 800
            tag = c.tag()
            c.send(f"{tag} APPEND INBOX".encode() +
                   b"".join(f" {{{len(m)}+}}\r\n".encode() + m for _ in range(n)) + b"\r\n")
            self.assertIn("OK", c.collect(tag, timeout=60)[1])
            c.ok("SELECT INBOX")
            tag = c.tag()
            c.send(f"{tag} STORE 1:* +FLAGS (\\Seen)\r\n{tag}b NOOP\r\n")
            time.sleep(0.5)   # the server fills its buffer and waits
            u, t = c.collect(tag, timeout=30)
            self.assertEqual(len(u), n)
            self.assertEqual(u[-1], f"* {n} FETCH (FLAGS (\\Seen \\Recent))")
            self.assertEqual(t, f"{tag} OK STORE completed")
            self.assertEqual(c.collect(tag + "b")[1], f"{tag}b OK NOOP completed")
            # EXPUNGE of all: every "* 1 EXPUNGE" comes before the tagged OK
            c.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)")
            tag = c.tag()
            c.send(f"{tag} EXPUNGE\r\n")
            time.sleep(0.5)
            u, t = c.collect(tag, timeout=30)
            self.assertEqual(u, ["* 1 EXPUNGE"] * n)
            self.assertEqual(t, f"{tag} OK EXPUNGE completed")
            self.assertEqual(c.ok("NOOP")[0], [])


    def test_big_qresync_select_streams_under_back_pressure(self):
        with mk.Server(output_buffer_limit="4K") as srv:
            srv.add_user("qr@example.com", "pw")
            c = imapt.Client(srv, "qr@example.com", "pw")
            m = imapt.msg("x").encode()
            n = 800
            tag = c.tag()
            c.send(f"{tag} APPEND INBOX".encode() +
                   b"".join(f" {{{len(m)}+}}\r\n".encode() + m for _ in range(n)) + b"\r\n")
            self.assertIn("OK", c.collect(tag, timeout=60)[1])
            c.ok("ENABLE QRESYNC")
            u, _ = c.ok("SELECT INBOX")
            hms = [l for l in u if "HIGHESTMODSEQ" in l][0].split()[3].rstrip("]")
            uv = [l for l in u if "UIDVALIDITY" in l][0].split()[3].rstrip("]")
            c.ok("STORE 1:* +FLAGS.SILENT (\\Seen)")
            c.ok("STORE 2:* +FLAGS.SILENT (\\Deleted)")
            c.ok("UID EXPUNGE 2:400")
            c.ok("UNSELECT")
            tag = c.tag()
            c.send(f"{tag} SELECT INBOX (QRESYNC ({uv} {hms}))\r\n")
            time.sleep(0.5)
            u, t = c.collect(tag, timeout=30)
            self.assertIn("* VANISHED (EARLIER) 2:400", u)
            self.assertEqual(len([l for l in u if " FETCH (UID " in l]), n - 399)
            self.assertIn("OK [READ-WRITE]", t)


if __name__ == "__main__":
    unittest.main()
