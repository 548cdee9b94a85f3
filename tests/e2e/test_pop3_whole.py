"""POP3 RETR/TOP of messages sent whole from the store's bytes (at most
one stream step: output_buffer_limit / 4) and of those streamed, side by
side: byte-exact, dot-stuffed, pipelined into a full output buffer; and
one command at a time, as download clients go, where the next message's
answer is made while the client reads the last (read-ahead)."""
import imaplib
import socket
import ssl
import subprocess
import time
import unittest

import mk


def message(n, size):
    # Lines starting with dots, and a last line without a line end.
    head = (f"From: s@example.org\r\nTo: alice@example.com\r\nSubject: whole {n}\r\n\r\n"
            ".first line starts with a dot\r\n")
    body, i = "", 0
    while len(head) + len(body) < size:
        body += (".." if i % 3 == 0 else "line ") + f"{n}-{i}\r\n"
        i += 1
    return (head + body).encode()[:size - 4] + b"end."


def stuffed(m):
    lines = m.split(b"\r\n")
    out = b"\r\n".join(b"." + l if l.startswith(b".") else l for l in lines)
    # A last line without a line end gets one before the terminator.
    return out + (b".\r\n" if m.endswith(b"\r\n") else b"\r\n.\r\n")


class Pop3Whole(unittest.TestCase):
    # Step 1024 bytes: messages either side of it take both paths. The
    # answer to the next RETR is made ahead up to 4096 bytes (the limit):
    # 3000 and 4096 are sent whole from it but streamed otherwise.
    settings = {"output_buffer_limit": "4K"}
    sizes = [200, 1000, 1024, 1025, 3000, 20000, 4096, 4097]

    def setUp(self):
        self.srv = mk.Server(**self.settings).start()
        self.srv.add_user("alice@example.com", "pw")
        self.msgs = [message(i, s) for i, s in enumerate(self.sizes, 1)]
        for m in self.msgs:
            p = subprocess.run([mk.BIN, "--config", self.srv.config, "deliver",
                                "alice@example.com"], input=m, capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)

    def tearDown(self):
        self.srv.__exit__(None, None, None)

    def login(self):
        raw = socket.create_connection(("127.0.0.1", self.srv.ports["pop3s"]), timeout=20)
        s = mk.tls_context().wrap_socket(raw, server_hostname="localhost")
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"+OK"))
        s.sendall(b"USER alice@example.com\r\nPASS pw\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        self.assertTrue(f.readline().startswith(b"+OK"))
        return s, f

    def multiline(self, f):
        """A multi-line answer, up to and with its terminating dot line."""
        got = b""
        while not got.endswith(b"\r\n.\r\n"):
            line = f.readline()
            self.assertTrue(line, "connection closed in a multi-line answer")
            got += line
        return got

    def test_pipelined_retr_and_top_byte_exact(self):
        s, f = self.login()
        n = len(self.msgs)
        # Everything at once, twice over: the answers outgrow the 4K buffer.
        cmds = b"".join(b"RETR %d\r\nTOP %d 1\r\n" % (i, i) for i in range(1, n + 1))
        s.sendall(cmds * 2)
        for _ in range(2):
            for i, m in enumerate(self.msgs, 1):
                self.assertEqual(f.readline(), b"+OK %d octets\r\n" % len(m))
                self.assertEqual(self.multiline(f), stuffed(m), f"RETR {i} ({len(m)} bytes)")
                self.assertEqual(f.readline(), b"+OK Top of message follows\r\n")
                head, _, body = m.partition(b"\r\n\r\n")
                want = stuffed(head + b"\r\n\r\n" + body.split(b"\r\n")[0] + b"\r\n")
                self.assertEqual(self.multiline(f), want, f"TOP {i} 1")
        s.sendall(b"QUIT\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        s.close()

    def retr(self, s, f, i):
        """RETR i, alone on the wire: its first line, after checking the
        message's bytes when it is +OK."""
        s.sendall(b"RETR %d\r\n" % i)
        first = f.readline()
        if not first.startswith(b"+OK"):
            return first
        m = self.msgs[i - 1]
        self.assertEqual(first, b"+OK %d octets\r\n" % len(m))
        self.assertEqual(self.multiline(f), stuffed(m), f"RETR {i} ({len(m)} bytes)")
        return first

    def test_one_at_a_time_out_of_order_and_between_other_commands(self):
        s, f = self.login()
        # In order, then back, skipping, repeating: each answer is the
        # message asked for, whatever was read ahead.
        for i in [1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 2, 2, 6, 5, 4, 8, 7]:
            self.assertTrue(self.retr(s, f, i).startswith(b"+OK"), i)
        # TOP of the message after a RETR is TOP's answer, not RETR's.
        self.retr(s, f, 1)
        s.sendall(b"TOP 2 0\r\n")
        self.assertEqual(f.readline(), b"+OK Top of message follows\r\n")
        head = self.msgs[1].partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
        self.assertEqual(self.multiline(f), stuffed(head))
        # A message deleted after the one before it was read is refused.
        self.retr(s, f, 2)
        s.sendall(b"DELE 3\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        self.assertEqual(self.retr(s, f, 3), b"-ERR Message is deleted\r\n")
        self.assertTrue(self.retr(s, f, 4).startswith(b"+OK"))
        # RSET brings it back, whole.
        s.sendall(b"RSET\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        self.assertTrue(self.retr(s, f, 3).startswith(b"+OK"))
        s.sendall(b"QUIT\r\n")
        self.assertEqual(f.readline(), b"+OK Logging out, 0 messages deleted\r\n")
        s.close()

    def test_next_message_expunged_over_imap_after_a_retr(self):
        s, f = self.login()
        self.assertTrue(self.retr(s, f, 1).startswith(b"+OK"))
        # Message 2's answer may be made by now; another device expunges
        # it. Once the snapshot the reads share has ended (it lasts 250
        # ms), RETR says it is gone rather than sending it.
        i = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"], ssl_context=mk.tls_context())
        i.login("alice@example.com", "pw")
        i.select("INBOX")
        i.uid("STORE", "2", "+FLAGS", "(\\Deleted)")
        i.expunge()
        i.logout()
        time.sleep(0.6)
        self.assertIn(b"deleted by another session", self.retr(s, f, 2))
        self.assertTrue(self.retr(s, f, 3).startswith(b"+OK"))
        s.sendall(b"QUIT\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        s.close()


if __name__ == "__main__":
    unittest.main()
