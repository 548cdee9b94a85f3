"""Nothing acknowledged is lost (DESIGN.md principle 2): the server is
killed with SIGKILL at random moments while clients append over IMAP and
deliver over LMTP and SMTP; after each restart every message that was
acknowledged is there, byte-exact, exactly once, found by a text search
(the index is filled after the commit, and a crash must not lose that
work for good), and `mailkeep check` finds no inconsistency. Messages are
small (kept inside store.db) and, one in six, large (blob files)."""
import imaplib
import random
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

import mk

USER = "crash@example.com"


def make_message(tag):
    # Over 64 KiB a message is a blob file; below, it lives in store.db.
    filler = random.randint(70000, 150000) if random.random() < 1 / 6 else random.randint(0, 3000)
    return (f"From: writer@example.org\r\nTo: {USER}\r\nSubject: crash test {tag}\r\n"
            f"Message-ID: <{tag}@crash.test>\r\n\r\nbody of {tag}\r\n"
            + ("x" * 999 + "\r\n") * (filler // 1001) + "x" * (filler % 1001) + "\r\n").encode()


class Appender(threading.Thread):
    """APPENDs until the connection dies; records what got a tagged OK."""

    def __init__(self, srv, name, acked):
        super().__init__(daemon=True)
        self.srv, self.name_, self.acked = srv, name, acked

    def run(self):
        try:
            c = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"],
                                  ssl_context=mk.tls_context(), timeout=10)
            c.login(USER, "pw")
            for i in range(100000):
                msg = make_message(f"{self.name_}-{i}")
                typ, _ = c.append("INBOX", None, None, msg)
                if typ == "OK":
                    self.acked.append(msg)
        except Exception:
            pass  # the server was killed


class Deliverer(threading.Thread):
    """LMTP deliveries until the connection dies; records 250s."""

    def __init__(self, srv, name, acked):
        super().__init__(daemon=True)
        self.srv, self.name_, self.acked = srv, name, acked

    def run(self):
        import smtplib
        try:
            c = smtplib.LMTP("127.0.0.1", self.srv.ports["lmtp"], timeout=10)
            c.ehlo("crash.test")
            for i in range(100000):
                msg = make_message(f"{self.name_}-{i}")
                refused = c.sendmail("writer@example.org", [USER], msg)
                if not refused:
                    self.acked.append(msg)
        except Exception:
            pass


def fetch_all(srv, search=None):
    """Every message of INBOX; with search, also how many match BODY search."""
    c = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=mk.tls_context(),
                          timeout=30)
    c.login(USER, "pw")
    typ, data = c.select("INBOX", readonly=True)
    n = int(data[0])
    bodies = []
    if n:
        typ, data = c.fetch("1:*", "(BODY.PEEK[])")
        bodies = [part[1] for part in data if isinstance(part, tuple)]
    found = None
    if search is not None:
        typ, data = c.search(None, "BODY", f'"{search}"')
        found = len(data[0].split())
    c.logout()
    return bodies if search is None else (bodies, found)


class Crash(unittest.TestCase):
    def test_twenty_kills_lose_no_acknowledged_message(self):
        random.seed(20261121)
        srv = mk.Server(services=["imaps", "lmtp"])
        try:
            srv.start()
            srv.add_user(USER, "pw")
            appended, delivered = [], []
            for round_ in range(20):
                workers = [Appender(srv, f"a{round_}x{k}", appended) for k in range(2)]
                workers.append(Deliverer(srv, f"d{round_}", delivered))
                for w in workers:
                    w.start()
                time.sleep(random.uniform(0.2, 0.7))
                srv.proc.send_signal(signal.SIGKILL)
                srv.proc.wait(10)
                for w in workers:
                    w.join(15)
                srv.start()
            self.assertGreater(len(appended), 20, "too few appends to mean anything")
            self.assertGreater(len(delivered), 5, "too few deliveries to mean anything")
            stored, found = fetch_all(srv, search="body of")
            self.assertEqual(found, len(stored), "the search index misses messages")
            self.assertTrue(any(len(m) > 65536 for m in stored), "no large message stored")
            for msg in appended:
                self.assertEqual(stored.count(msg), 1, msg[:80])
            for msg in delivered:  # LMTP adds a Received header on top
                self.assertEqual(sum(s.endswith(b"\r\n" + msg) for s in stored), 1, msg[:80])
            srv.stop()
            p = srv.cli("check", "--all", check=False)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertNotIn("error", p.stdout)
        finally:
            srv.__exit__(None, None, None)

    def test_pipelined_smtp_killed_midway_each_250_stored_exactly_once(self):
        srv = mk.Server(services=["imaps", "smtp"])
        try:
            srv.start()
            srv.add_user(USER, "pw")
            s = socket.create_connection(("127.0.0.1", srv.ports["smtp"]), timeout=20)
            f = s.makefile("rb")
            assert f.readline().startswith(b"220")
            s.sendall(b"EHLO crash.test\r\n")
            while True:
                line = f.readline()
                if line[3:4] == b" ":
                    break
            # 1,000 transactions in one stream: BDAT needs no 354 round trip.
            msgs = [make_message(f"p{i}") for i in range(1000)]
            stream = b"".join(
                b"MAIL FROM:<writer@example.org>\r\nRCPT TO:<" + USER.encode() + b">\r\n"
                + b"BDAT %d LAST\r\n" % len(m) + m for m in msgs)
            sender = threading.Thread(target=lambda: self._send(s, stream), daemon=True)
            sender.start()
            acked = []
            replies = 0
            try:
                while True:
                    line = f.readline()
                    if not line:
                        break
                    replies += 1
                    # Every third reply answers a BDAT LAST: the message.
                    if replies % 3 == 0 and line.startswith(b"250"):
                        acked.append(msgs[replies // 3 - 1])
                    if len(acked) == 300:
                        srv.proc.send_signal(signal.SIGKILL)
            except (OSError, ValueError):
                pass
            srv.proc.wait(10)
            s.close()
            self.assertGreaterEqual(len(acked), 300)
            srv.start()
            stored = fetch_all(srv)
            for m in acked:
                self.assertEqual(sum(x.endswith(b"\r\n" + m) for x in stored), 1, m[:60])
            ids = [re.search(rb"Message-ID: <(p\d+)@", x).group(1) for x in stored]
            self.assertEqual(len(ids), len(set(ids)), "a message was stored twice")
        finally:
            srv.__exit__(None, None, None)

    @staticmethod
    def _send(sock, data):
        try:
            sock.sendall(data)
        except OSError:
            pass


if __name__ == "__main__":
    unittest.main()
