"""POP3 over the store (issue 5): python's poplib and curl against the real
server; messages are put in with `mailkeep deliver`."""
import os
import poplib
import socket
import subprocess
import time
import unittest

import mk


def message(n, body_lines=None):
    lines = body_lines or [f"This is message number {n}.", "Second line."]
    return ("From: sender@example.org\r\nTo: alice@example.com\r\n"
            f"Subject: test {n}\r\nMessage-ID: <m{n}@example.org>\r\n\r\n"
            + "".join(l + "\r\n" for l in lines)).encode()


class Pop3(unittest.TestCase):
    def setUp(self):
        self.srv = mk.Server(**getattr(self, "settings", {})).start()
        self.srv.add_user("alice@example.com", "pw")

    def tearDown(self):
        self.srv.__exit__(None, None, None)

    def deliver(self, data, addr="alice@example.com"):
        p = subprocess.run([mk.BIN, "--config", self.srv.config, "deliver", addr],
                           input=data, capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)

    def pop(self):
        c = poplib.POP3_SSL("127.0.0.1", self.srv.ports["pop3s"], context=mk.tls_context(),
                            timeout=20)
        c.user("alice@example.com")
        c.pass_("pw")
        return c

    def pop_when_unlocked(self):
        # The server releases the maildrop lock once it sees the old
        # connection gone; a client reconnecting at once may be early.
        deadline = time.time() + 5
        while True:
            try:
                return self.pop()
            except poplib.error_proto as e:
                if b"IN-USE" not in e.args[0] or time.time() > deadline:
                    raise
                time.sleep(0.05)

    def test_stat_list_uidl_retr_byte_exact(self):
        msgs = [message(i) for i in range(1, 4)]
        for m in msgs:
            self.deliver(m)
        c = self.pop()
        self.assertEqual(c.stat(), (3, sum(len(m) for m in msgs)))
        resp, listing, _ = c.list()
        self.assertEqual([l.split()[1] for l in listing], [str(len(m)).encode() for m in msgs])
        resp, uidls, _ = c.uidl()
        self.assertEqual(len(set(u.split()[1] for u in uidls)), 3)
        for i, m in enumerate(msgs, 1):
            resp, lines, octets = c.retr(i)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", m)
            self.assertEqual(resp, f"+OK {len(m)} octets".encode())
        c.quit()

    def test_dot_stuffing_and_top(self):
        m = message(1, [".starts with a dot", "..two dots", "normal", "."])
        self.deliver(m)
        c = self.pop()
        self.assertEqual(b"\r\n".join(c.retr(1)[1]) + b"\r\n", m)
        head, _, body = m.partition(b"\r\n\r\n")
        resp, lines, _ = c.top(1, 0)
        self.assertEqual(b"\r\n".join(lines), head + b"\r\n")
        resp, lines, _ = c.top(1, 2)
        self.assertEqual(lines[-2:], [b".starts with a dot", b"..two dots"])
        c.quit()

    def test_uidl_stable_across_sessions_and_restart(self):
        self.deliver(message(1))
        self.deliver(message(2))
        c = self.pop()
        first = c.uidl()[1]
        c.quit()
        self.srv.stop()
        self.srv.start()
        self.deliver(message(3))
        c = self.pop()
        again = c.uidl()[1]
        self.assertEqual(again[:2], first)
        self.assertNotIn(again[2].split()[1], [u.split()[1] for u in first])
        c.quit()

    def test_dele_quit_removes_rset_undoes_drop_deletes_nothing(self):
        for i in range(1, 4):
            self.deliver(message(i))
        c = self.pop()
        c.dele(1)
        with self.assertRaisesRegex(poplib.error_proto, "deleted"):
            c.retr(1)
        self.assertEqual(c.stat()[0], 2)
        c.rset()
        self.assertEqual(c.stat()[0], 3)
        c.dele(2)
        # The connection drops without QUIT (shutdown: poplib's file object
        # would keep the socket open after a plain close).
        c.sock.shutdown(socket.SHUT_RDWR)
        c.sock.close()
        c = self.pop_when_unlocked()
        self.assertEqual(c.stat()[0], 3)
        c.dele(2)
        self.assertIn(b"1 messages deleted", c.quit())
        c = self.pop()
        self.assertEqual(c.stat()[0], 2)
        subjects = [b"\r\n".join(c.retr(i)[1]) for i in (1, 2)]
        self.assertIn(b"Subject: test 1", subjects[0])
        self.assertIn(b"Subject: test 3", subjects[1])
        c.quit()

    def test_second_session_is_refused_while_locked(self):
        self.deliver(message(1))
        c = self.pop()
        d = poplib.POP3_SSL("127.0.0.1", self.srv.ports["pop3s"], context=mk.tls_context())
        d.user("alice@example.com")
        with self.assertRaisesRegex(poplib.error_proto, r"\[IN-USE\]"):
            d.pass_("pw")
        c.quit()
        d = self.pop()
        self.assertEqual(d.stat()[0], 1)
        d.quit()

    def test_bad_arguments_get_errors_and_session_goes_on(self):
        self.deliver(message(1))
        c = self.pop()
        for bad in ("RETR 0", "RETR 2", "RETR x", "DELE 99", "TOP 1", "LIST 5", "FOO"):
            with self.assertRaises(poplib.error_proto, msg=bad):
                c._shortcmd(bad)
        self.assertEqual(c.noop(), b"+OK")
        c.quit()

    def test_retr_of_a_big_message_to_a_client_that_does_not_read(self):
        big = message(9, ["line %06d of a big message" % i for i in range(700000)])  # ~20 MB
        self.deliver(big)
        base = self.srv.rss_kib("RssAnon")
        s = self.srv.connect("pop3s")
        c = mk.Lines(s)
        c.readline()
        c.cmd("USER alice@example.com")
        self.assertTrue(c.cmd("PASS pw", timeout=30).startswith("+OK"))
        c.send("RETR 1\r\n")
        # The server streams until the socket buffers are full, then waits:
        # what sits in the kernel is not the server's memory.
        time.sleep(2)
        grown = self.srv.rss_kib("RssAnon") - base
        if not mk.ASAN:
            self.assertLess(grown, 8 * 1024, f"server heap grew {grown} KiB for a 20 MB RETR")
        # Reading it all gives the message byte-exact.
        self.assertEqual(c.readline(timeout=30), f"+OK {len(big)} octets")
        data = bytearray(c.buf)
        s.settimeout(30)
        while not data.endswith(b"\r\n.\r\n"):
            chunk = s.recv(1 << 20)
            self.assertTrue(chunk, "connection closed during RETR")
            data += chunk
        body = bytes(data[:-3]).replace(b"\r\n..", b"\r\n.")
        self.assertEqual(body, big)

    def test_curl_lists_and_retrieves(self):
        m = message(7)
        self.deliver(m)
        url = f"pop3s://127.0.0.1:{self.srv.ports['pop3s']}/"
        p = subprocess.run(["curl", "-sk", "-u", "alice@example.com:pw", url],
                           capture_output=True, timeout=30)
        self.assertEqual(p.stdout.strip(), f"1 {len(m)}".encode())
        p = subprocess.run(["curl", "-sk", "-u", "alice@example.com:pw", url + "1"],
                           capture_output=True, timeout=30)
        self.assertEqual(p.stdout, m)


    def imap(self):
        import imaplib
        c = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"], ssl_context=mk.tls_context())
        c.login("alice@example.com", "pw")
        return c

    def test_imap_expunge_while_pop3_open_gives_err_on_retr(self):
        self.deliver(message(1))
        self.deliver(message(2))
        p = self.pop()
        self.assertEqual(p.stat()[0], 2)
        i = self.imap()
        i.select("INBOX")
        i.store("1", "+FLAGS", "\\Deleted")
        i.expunge()
        with self.assertRaisesRegex(poplib.error_proto, "deleted by another session"):
            p.retr(1)
        self.assertIn(b"Subject: test 2", b"\r\n".join(p.retr(2)[1]))  # the session goes on
        p.quit()
        p = self.pop()
        self.assertEqual(p.stat()[0], 1)
        p.quit()

    def test_expunge_during_a_run_of_retrs(self):
        # RETRs read from a snapshot taken at the first one and kept a
        # fraction of a second: a message expunged meanwhile may still come
        # whole, as it was; once the snapshot is let go, it is reported
        # deleted, and the session goes on.
        for n in (1, 2, 3):
            self.deliver(message(n))
        p = self.pop()
        self.assertIn(b"Subject: test 3", b"\r\n".join(p.retr(3)[1]))
        i = self.imap()
        i.select("INBOX")
        i.store("1:2", "+FLAGS", "\\Deleted")
        i.expunge()
        try:
            self.assertEqual(b"\r\n".join(p.retr(1)[1]) + b"\r\n", message(1))
        except poplib.error_proto as e:
            self.assertIn("deleted by another session", str(e))
        time.sleep(0.6)
        with self.assertRaisesRegex(poplib.error_proto, "deleted by another session"):
            p.retr(2)
        self.assertIn(b"Subject: test 3", b"\r\n".join(p.retr(3)[1]))
        p.quit()
        i.logout()

    def test_retr_run_while_imap_moves_to_trash_and_mail_arrives(self):
        # A download client's run of RETRs, one at a time (each answer is
        # made ahead while the client reads the one before), while a phone
        # moves messages to Trash and new mail arrives: every answer is the
        # message as delivered or says it was deleted, and once the reads'
        # snapshot has ended a moved message is always reported deleted,
        # never served from its copy in Trash.
        import threading
        n = 90
        msgs = [message(k, [f"line {k}-{j}" for j in range(k % 30 + 1)] + [".dot", ""])
                for k in range(1, n + 1)]
        for m in msgs:
            self.deliver(m)
        moved = list(range(3, n + 1, 3))
        p = self.pop()
        self.assertEqual(p.stat()[0], n)
        errors = []

        def phone():
            try:
                i = self.imap()
                i.select("INBOX")
                for k in range(0, len(moved), 5):
                    uids = ",".join(str(u) for u in moved[k:k + 5])
                    typ, _ = i.uid("MOVE", uids, "Trash")
                    if typ != "OK":
                        errors.append(f"MOVE {uids}: {typ}")
                    if k % 10 == 0:
                        self.deliver(message(1000 + k))
                    time.sleep(0.02)
                i.logout()
            except Exception as e:  # reported by the main thread
                errors.append(repr(e))

        t = threading.Thread(target=phone)
        t.start()
        served, refused = 0, 0
        for k in range(1, n + 1):
            try:
                got = b"\r\n".join(p.retr(k)[1]) + b"\r\n"
                self.assertEqual(got, msgs[k - 1], f"RETR {k}")
                served += 1
            except poplib.error_proto as e:
                self.assertIn(k, moved, f"RETR {k}: {e}")
                self.assertIn("deleted by another session", str(e))
                refused += 1
        t.join(60)
        self.assertFalse(t.is_alive())
        self.assertEqual(errors, [])
        self.assertEqual(served + refused, n)
        time.sleep(0.6)
        for k in range(1, n + 1):
            if k in moved:
                with self.assertRaisesRegex(poplib.error_proto, "deleted by another session"):
                    p.retr(k)
            else:
                self.assertEqual(b"\r\n".join(p.retr(k)[1]) + b"\r\n", msgs[k - 1])
        p.quit()
        i = self.imap()
        self.assertEqual(int(i.select("Trash")[1][0]), len(moved))
        typ, data = i.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(data[0][1], msgs[moved[0] - 1])
        self.assertEqual(int(i.select("INBOX")[1][0]), n - len(moved) + 3)
        i.logout()

    def test_pop3_delete_is_gone_for_imap(self):
        self.deliver(message(1))
        self.deliver(message(2))
        p = self.pop()
        p.dele(1)
        p.quit()
        i = self.imap()
        typ, data = i.select("INBOX")
        self.assertEqual(int(data[0]), 1)
        typ, data = i.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn(b"test 2", data[0][1])
        i.logout()


class Pop3TrashMode(unittest.TestCase):
    def test_trash_mode_moves_deleted_messages_to_trash(self):
        import imaplib
        with mk.Server(pop3_delete="trash") as srv:
            srv.add_user("alice@example.com", "pw")
            for n in (1, 2):
                subprocess.run([mk.BIN, "--config", srv.config, "deliver", "alice@example.com"],
                               input=message(n), check=True, capture_output=True, timeout=30)
            p = poplib.POP3_SSL("127.0.0.1", srv.ports["pop3s"], context=mk.tls_context())
            p.user("alice@example.com")
            p.pass_("pw")
            p.dele(1)
            p.quit()
            i = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=mk.tls_context())
            i.login("alice@example.com", "pw")
            self.assertEqual(int(i.select("INBOX")[1][0]), 1)
            self.assertEqual(int(i.select("Trash")[1][0]), 1)
            typ, data = i.fetch("1", "(BODY.PEEK[])")
            self.assertEqual(data[0][1], message(1))  # undoable: byte-exact in Trash
            i.logout()


class Pop3FlagMode(Pop3):
    settings = {"pop3_delete": "flag"}

    def test_pop3_delete_is_gone_for_imap(self):
        # flag mode: IMAP still has it, marked \Deleted, so it can be undone.
        self.deliver(message(1))
        p = self.pop()
        p.dele(1)
        p.quit()
        i = self.imap()
        self.assertEqual(int(i.select("INBOX")[1][0]), 1)
        typ, data = i.fetch("1", "(FLAGS)")
        self.assertIn(b"\\Deleted", data[0])
        i.logout()

    def test_flag_mode_hides_deleted_from_later_sessions(self):
        self.deliver(message(1))
        self.deliver(message(2))
        c = self.pop()
        c.dele(1)
        c.quit()
        c = self.pop()
        self.assertEqual(c.stat()[0], 1)
        self.assertIn(b"Subject: test 2", b"\r\n".join(c.retr(1)[1]))
        c.quit()


if __name__ == "__main__":
    unittest.main()
