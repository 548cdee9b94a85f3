"""POP3 RETR/TOP of messages sent whole from the store's bytes (at most
one stream step: output_buffer_limit / 4) and of those streamed, side by
side: byte-exact, dot-stuffed, pipelined into a full output buffer."""
import socket
import ssl
import subprocess
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
    # Step 1024 bytes: messages either side of it take both paths.
    settings = {"output_buffer_limit": "4K"}
    sizes = [200, 1000, 1024, 1025, 3000, 20000]

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

    def test_pipelined_retr_and_top_byte_exact(self):
        raw = socket.create_connection(("127.0.0.1", self.srv.ports["pop3s"]), timeout=20)
        s = mk.tls_context().wrap_socket(raw, server_hostname="localhost")
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"+OK"))
        s.sendall(b"USER alice@example.com\r\nPASS pw\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        self.assertTrue(f.readline().startswith(b"+OK"))
        n = len(self.msgs)
        # Everything at once, twice over: the answers outgrow the 4K buffer.
        cmds = b"".join(b"RETR %d\r\nTOP %d 1\r\n" % (i, i) for i in range(1, n + 1))
        s.sendall(cmds * 2)
        for _ in range(2):
            for i, m in enumerate(self.msgs, 1):
                self.assertEqual(f.readline(), b"+OK %d octets\r\n" % len(m))
                got = b""
                while not got.endswith(b"\r\n.\r\n"):
                    got += f.readline()
                self.assertEqual(got, stuffed(m), f"RETR {i} ({len(m)} bytes)")
                self.assertEqual(f.readline(), b"+OK Top of message follows\r\n")
                head, _, body = m.partition(b"\r\n\r\n")
                want = stuffed(head + b"\r\n\r\n" + body.split(b"\r\n")[0] + b"\r\n")
                got = b""
                while not got.endswith(b"\r\n.\r\n"):
                    got += f.readline()
                self.assertEqual(got, want, f"TOP {i} 1")
        s.sendall(b"QUIT\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        s.close()


if __name__ == "__main__":
    unittest.main()
