"""More clients than open files: a server whose open-files limit is 256
holds 600 IMAP clients in IDLE (plain and TLS), still accepts new ones,
pushes new mail to every idler, and each one ends its IDLE and logs out
as usual. Quiet connections are parked outside the descriptor table
(src/lib/fdpark.h); where the kernel cannot (no io_uring, or older than
Linux 6.8) the test is skipped, as the server then holds what the limit
allows."""
import ctypes
import os
import resource
import select
import time
import unittest

import imapt
import mk

LIMIT = 256
CLIENTS = 600


def kernel_can_park():
    """io_uring is there and knows IORING_OP_FIXED_FD_INSTALL (54)."""
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)   # struct io_uring_params
    fd = libc.syscall(425, 4, params)            # io_uring_setup
    if fd < 0:
        return False
    try:
        probe = ctypes.create_string_buffer(16 + 256 * 8)
        if libc.syscall(427, fd, 8, probe, 256) != 0:   # REGISTER_PROBE
            return False
        last_op = probe.raw[0]
        flags = int.from_bytes(probe.raw[16 + 54 * 8 + 2:16 + 54 * 8 + 4], "little")
        return last_op >= 54 and flags & 1 == 1
    finally:
        os.close(fd)


@unittest.skipUnless(kernel_can_park(), "this kernel cannot park sockets (io_uring, Linux 6.8)")
class MoreClientsThanOpenFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The clients' side needs its 600 sockets.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < CLIENTS + 200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        cls.srv = mk.Server(nofile=LIMIT, plaintext_auth_networks="127.0.0.0/8",
                            max_connections_per_ip=0).start()
        for u in ("p1", "p2"):
            cls.srv.add_user(f"{u}@example.com", "pw")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def open_files(self):
        return len(os.listdir(f"/proc/{self.srv.pid}/fd"))

    def idler(self, i):
        c = imapt.Client(self.srv, f"p{1 + i % 2}@example.com", "pw",
                         svc="imaps" if i % 4 == 0 else "imap")
        c.ok("SELECT INBOX")
        c.idle_tag = c.tag()
        c.send(f"{c.idle_tag} IDLE\r\n")
        self.assertEqual(c.readline(), "+ idling")
        return c

    def test_idlers_beyond_the_limit_get_new_mail_and_finish(self):
        clients = [self.idler(i) for i in range(CLIENTS)]
        self.assertLessEqual(self.open_files(), LIMIT)

        # Still accepting: a new client logs in and delivers to both users.
        with_fd = imapt.Client(self.srv, "p1@example.com", "pw", svc="imap")
        u, t = with_fd.append("INBOX", imapt.msg("to p1"))
        self.assertIn(" OK ", t)
        other = imapt.Client(self.srv, "p2@example.com", "pw", svc="imaps")
        u, t = other.append("INBOX", imapt.msg("to p2"))
        self.assertIn(" OK ", t)

        # Every idler hears of its new message.
        waiting = {c.c.sock: c for c in clients}
        deadline = time.time() + 60
        while waiting and time.time() < deadline:
            # TLS may hold decrypted bytes the socket no longer shows.
            ready = [s for s, c in waiting.items() if b"\n" in c.c.buf
                     or (hasattr(s, "pending") and s.pending())]
            if not ready:
                ready, _, _ = select.select(list(waiting), [], [], 1)
            for s in ready:
                c = waiting.pop(s)
                self.assertEqual(c.readline(timeout=5), "* 1 EXISTS")
        self.assertEqual(len(waiting), 0, f"{len(waiting)} idlers heard nothing in 60 s")

        # And each ends its IDLE, sees the message, and logs out.
        for i, c in enumerate(clients):
            c.send("DONE\r\n")
            u, t = c.collect(c.idle_tag, timeout=30)
            self.assertEqual(t, f"{c.idle_tag} OK IDLE terminated", f"client {i}: {u}")
        for i, c in enumerate(clients):
            u, t = c.ok("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])", timeout=30)
            self.assertIn(f"Subject: to p{1 + i % 2}", u[0], f"client {i}")
            u, t = c.cmd("LOGOUT", timeout=30)
            self.assertTrue(u and u[0].startswith("* BYE"), f"client {i}: {u}")
            c.c.sock.close()
        for c in (with_fd, other):
            c.ok("NOOP")
            c.c.sock.close()
        self.assertNotIn("unpark-failed", self.srv.log())


if __name__ == "__main__":
    unittest.main()
