"""The outbound queue (issue 6 point 5): delivery to a second mailkeep on
another loopback port through a queue_route, retries and bounces with short
timers, no bounce for the null sender, a spool that survives kill -9, and
`mailkeep queue list|flush|delete|add`.

Messages are queued with `mailkeep queue add` (the queue's own API from the
shell) and, where submission is wired to the queue, with smtplib on 587.
Only loopback addresses are used; every wait is bounded."""
import email
import email.policy
import os
import poplib
import re
import signal
import smtplib
import socket
import sqlite3
import threading
import time
import unittest

import mk
import smtpkit

FAST = dict(queue_retry_min="1s", queue_retry_max="1s", queue_lifetime="5s")


def message(subject, body="Hello from the queue test.\r\n"):
    return ("From: alice@example.com\r\nTo: bob@example.net\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@example.com>\r\n"
            "Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\n" + body)


def stored(srv, addr):
    """The messages in addr's INBOX; [] while its store is still being made."""
    try:
        return smtpkit.messages(srv, addr)
    except sqlite3.OperationalError:
        return []


def closed_port():
    return mk.free_port()  # bound and released: nothing listens there


def wait_for(pred, timeout=20, step=0.1, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class FakeSMTP:
    """A tiny SMTP server on loopback answering RCPT with a chosen reply
    (for the error paths only; the main test uses a real mailkeep)."""

    def __init__(self, rcpt_reply, hold=0.0, hang=False):
        self.rcpt_reply = rcpt_reply
        self.hold = hold        # seconds each session waits before its greeting
        self.hang = hang        # never greet: the client must give up on its own
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.sessions = 0
        self.stop = False
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.sessions += 1
            threading.Thread(target=self.run_session, args=(c,), daemon=True).start()

    def run_session(self, c):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self.session(c)
        except OSError:
            pass
        finally:
            with self.lock:
                self.active -= 1
            c.close()

    def session(self, c):
        c.settimeout(30)
        if self.hang:
            c.recv(1)  # until the client goes away
            return
        time.sleep(self.hold)
        f = c.makefile("rb")
        c.sendall(b"220 fake ESMTP\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                c.sendall(b"250-fake\r\n250 8BITMIME\r\n")
            elif verb == b"RCPT":
                c.sendall(self.rcpt_reply.encode() + b"\r\n")
            elif verb == b"DATA":
                c.sendall(b"354 go ahead\r\n")
                while f.readline() not in (b".\r\n", b""):
                    pass
                c.sendall(b"250 2.0.0 taken\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"250 ok\r\n")

    def close(self):
        self.stop = True
        self.sock.close()
        self.t.join(5)


class QueueBase(unittest.TestCase):
    def server(self, **settings):
        srv = mk.Server(domains="example.com", **settings).start()
        self.addCleanup(srv.__exit__, None, None, None)
        srv.add_user("alice@example.com", "pw")
        return srv

    def queue_add(self, srv, sender, rcpts, data):
        p = srv.cli("queue", "add", "--from", sender, *rcpts, input=data)
        qid = p.stdout.strip()
        self.assertRegex(qid, r"^[0-9a-f]{16}$")
        return qid

    def queue_list(self, srv):
        return srv.cli("queue", "list").stdout

    def queue_empty(self, srv):
        return "0 message(s) queued" in self.queue_list(srv)

    def inbox(self, srv, addr="alice@example.com"):
        return stored(srv, addr)


class Delivery(QueueBase):
    def test_route_delivers_to_second_instance(self):
        remote = mk.Server(domains="example.net").start()
        self.addCleanup(remote.__exit__, None, None, None)
        remote.add_user("bob@example.net", "pw")
        srv = self.server(queue_route=f"example.net=127.0.0.1:{remote.ports['smtp']}", **FAST)
        data = message("routed one")
        qid = self.queue_add(srv, "alice@example.com", ["bob@example.net"], data)
        wait_for(lambda: stored(remote, "bob@example.net"), what="delivery on B")
        # Read it back over POP3 on the second instance.
        c = poplib.POP3_SSL("127.0.0.1", remote.ports["pop3s"], context=mk.tls_context(),
                            timeout=20)
        c.user("bob@example.net")
        c.pass_("pw")
        self.assertEqual(c.stat()[0], 1)
        got = b"\r\n".join(c.retr(1)[1]) + b"\r\n"
        c.quit()
        _, rest = smtpkit.split_received(got)
        self.assertEqual(rest, data.encode())
        wait_for(lambda: self.queue_empty(srv), what="empty queue")
        log = srv.log()
        self.assertRegex(log, rf"id={qid} to=<bob@example.net> relay=127\.0\.0\.1\[127\.0\.0\.1\]"
                              rf":{remote.ports['smtp']} tls=yes result=sent")
        self.assertIn(f"id={qid} done delivered=1", log)
        self.assertEqual(os.listdir(os.path.join(srv.data, "queue", "msg")), [])

    def test_one_connection_for_all_recipients_of_a_domain(self):
        remote = mk.Server(domains="example.net").start()
        self.addCleanup(remote.__exit__, None, None, None)
        for u in ("bob", "carol", "dave"):
            remote.add_user(f"{u}@example.net", "pw")
        srv = self.server(queue_route=f"example.net=127.0.0.1:{remote.ports['smtp']}", **FAST)
        self.queue_add(srv, "alice@example.com",
                       ["bob@example.net", "carol@example.net", "dave@example.net"],
                       message("three"))
        for u in ("bob", "carol", "dave"):
            wait_for(lambda u=u: stored(remote, f"{u}@example.net"), what=u)
        # One SMTP session on B carried all three recipients.
        self.assertEqual(len(re.findall(r"message id=\S+ size=\d+ rcpts=3", remote.log())), 1,
                         remote.log()[-3000:])

    def test_submission_to_remote_domain_is_queued(self):
        remote = mk.Server(domains="example.net").start()
        self.addCleanup(remote.__exit__, None, None, None)
        remote.add_user("bob@example.net", "pw")
        srv = self.server(queue_route=f"example.net=127.0.0.1:{remote.ports['smtp']}", **FAST)
        s = smtplib.SMTP("127.0.0.1", srv.ports["submission"], timeout=10)
        self.addCleanup(s.close)
        s.starttls(context=mk.tls_context())
        s.login("alice@example.com", "pw")
        data = message("submitted").replace("To: bob@example.net",
                                            "To: bob@example.net, alice@example.com")
        # one remote recipient (queued) and one local (delivered at once)
        self.assertEqual(s.sendmail("alice@example.com", ["bob@example.net", "alice@example.com"],
                                    data), {})
        s.quit()
        local = self.inbox(srv)
        self.assertEqual(len(local), 1)
        msgs = wait_for(lambda: stored(remote, "bob@example.net"), what="delivery")
        # B's copy is A's copy (A's Received: line included) under B's Received:
        _, rest = smtpkit.split_received(msgs[0])
        self.assertEqual(rest, local[0])
        self.assertTrue(rest.startswith(b"Received: "))
        self.assertIn("queued id=", srv.log())
        wait_for(lambda: self.queue_empty(srv), what="empty queue")


class Relay(QueueBase):
    """relay_host with AUTH: the second instance's submission port is the
    smarthost (STARTTLS, then AUTH PLAIN as a user it knows)."""

    def relay(self, password):
        remote = mk.Server(domains="example.net").start()
        self.addCleanup(remote.__exit__, None, None, None)
        remote.add_user("bob@example.net", "pw")
        remote.add_user("alice@example.com", "relay-secret")
        pwfile = os.path.join(remote.tmp, "relay.pw")
        with open(pwfile, "w") as f:
            f.write(password + "\n")
        srv = self.server(relay_host=f"127.0.0.1:{remote.ports['submission']}",
                          relay_user="alice@example.com", relay_password_file=pwfile,
                          queue_retry_min="1h", queue_retry_max="1h")
        return remote, srv

    def test_relay_with_auth(self):
        remote, srv = self.relay("relay-secret")
        qid = self.queue_add(srv, "alice@example.com", ["bob@example.net"], message("relayed"))
        msgs = wait_for(lambda: stored(remote, "bob@example.net"), what="relayed delivery")
        self.assertIn(b"Subject: relayed", msgs[0])
        wait_for(lambda: re.search(rf"id={qid} to=<bob@example.net> relay=127\.0\.0\.1\S+ "
                                   r"tls=yes result=sent", srv.log()), what="log line")
        self.assertNotIn("relay-secret", srv.log())

    def test_relay_auth_failure_is_retried_not_bounced(self):
        remote, srv = self.relay("not-the-Pw-42")
        qid = self.queue_add(srv, "alice@example.com", ["bob@example.net"], message("nope"))
        wait_for(lambda: re.search(rf"id={qid} .*result=deferred .*AUTH", srv.log()),
                 what="deferred on AUTH")
        self.assertIn(qid, self.queue_list(srv))
        self.assertEqual(self.inbox(srv), [])
        self.assertNotIn("not-the-Pw-42", srv.log())


class Failures(QueueBase):
    def dsn(self, srv):
        msgs = wait_for(lambda: self.inbox(srv), timeout=30, what="bounce in INBOX")
        self.assertEqual(len(msgs), 1)
        return email.message_from_bytes(msgs[0], policy=email.policy.compat32)

    def test_closed_port_retries_then_bounces(self):
        port = closed_port()
        srv = self.server(queue_route=f"example.net=127.0.0.1:{port}", **FAST)
        t0 = time.time()
        qid = self.queue_add(srv, "alice@example.com", ["bob@example.net"], message("lost"))
        m = self.dsn(srv)
        self.assertGreaterEqual(time.time() - t0, 4)  # not before the lifetime
        self.assertEqual(m.get_content_type(), "multipart/report")
        self.assertEqual(m.get_param("report-type"), "delivery-status")
        self.assertEqual(m["To"], "<alice@example.com>")
        parts = m.get_payload()
        # no RET given: the whole (small) message comes back (RFC 3461 4.3)
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "message/delivery-status", "message/rfc822"])
        status = parts[1].as_string()
        self.assertIn("Final-Recipient: rfc822; bob@example.net", status)
        self.assertIn("Action: failed", status)
        self.assertIn("Status: 4.4.7", status)
        self.assertIn("Connection refused", status)
        self.assertIn(f"X-Queue-ID: {qid}", status)
        self.assertEqual(parts[2].get_payload()[0]["Subject"], "lost")
        self.assertIn("Hello from the queue test.", parts[2].get_payload()[0].get_payload())
        attempts = re.findall(rf"id={qid} to=<bob@example.net> .*result=deferred", srv.log())
        self.assertGreaterEqual(len(attempts), 2, srv.log()[-3000:])
        wait_for(lambda: self.queue_empty(srv), what="empty queue")

    def test_permanent_failure_bounces_at_once(self):
        fake = FakeSMTP("550 5.1.1 <bob@example.net>: no such user")
        self.addCleanup(fake.close)
        srv = self.server(queue_route=f"example.net=127.0.0.1:{fake.port}",
                          queue_retry_min="1h", queue_retry_max="1h")
        self.queue_add(srv, "alice@example.com", ["bob@example.net"], message("unknown"))
        m = self.dsn(srv)
        status = m.get_payload()[1].as_string()
        self.assertIn("Status: 5.1.1", status)
        self.assertIn("Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: no such user", status)
        self.assertIn(f"Remote-MTA: dns; 127.0.0.1[127.0.0.1]:{fake.port}", status)
        self.assertEqual(fake.sessions, 1)

    def test_temporary_failure_is_retried(self):
        fake = FakeSMTP("451 4.3.0 try later")
        self.addCleanup(fake.close)
        srv = self.server(queue_route=f"example.net=127.0.0.1:{fake.port}",
                          queue_retry_min="1s", queue_retry_max="1s", queue_lifetime="1h")
        qid = self.queue_add(srv, "alice@example.com", ["bob@example.net"], message("later"))
        wait_for(lambda: fake.sessions >= 3, what="three attempts")
        out = self.queue_list(srv)
        self.assertIn(qid, out)
        self.assertRegex(out, r"pending\s+<bob@example.net>  451 4.3.0 try later")
        self.assertEqual(self.inbox(srv), [])

    def test_null_sender_failure_makes_no_bounce(self):
        fake = FakeSMTP("550 5.1.1 no such user")
        self.addCleanup(fake.close)
        srv = self.server(queue_route=f"example.net=127.0.0.1:{fake.port}", **FAST)
        qid = self.queue_add(srv, "", ["bob@example.net"], message("from nobody"))
        wait_for(lambda: self.queue_empty(srv), what="empty queue")
        self.assertIn(f"id={qid} failed recipients=1: no bounce for the null sender", srv.log())
        time.sleep(0.5)
        self.assertEqual(self.inbox(srv), [])
        # and nothing else was queued (a bounce to a remote address would be)
        self.assertTrue(self.queue_empty(srv))


class Limits(QueueBase):
    def test_per_destination_concurrency(self):
        fake = FakeSMTP("250 ok", hold=1.0)
        self.addCleanup(fake.close)
        srv = self.server(queue_route=f"example.net=127.0.0.1:{fake.port}",
                          queue_domain_concurrency="2", queue_workers="8", **FAST)
        for i in range(6):
            self.queue_add(srv, "alice@example.com", [f"u{i}@example.net"], message(f"m{i}"))
        wait_for(lambda: self.queue_empty(srv), what="all delivered")
        self.assertEqual(fake.sessions, 6)
        self.assertEqual(len(re.findall(r"result=sent", srv.log())), 6)
        self.assertEqual(fake.max_active, 2)

    def test_shutdown_cuts_a_hanging_delivery_and_keeps_the_message(self):
        fake = FakeSMTP("250 ok", hang=True)
        self.addCleanup(fake.close)
        srv = self.server(queue_route=f"example.net=127.0.0.1:{fake.port}",
                          queue_retry_min="1h", queue_retry_max="1h", queue_lifetime="1d")
        qid = self.queue_add(srv, "alice@example.com", ["bob@example.net"], message("stuck"))
        wait_for(lambda: fake.active == 1, what="connection")
        rc, took = srv.stop()
        self.assertEqual(rc, 0)
        self.assertLess(took, 8)
        out = self.queue_list(srv)
        self.assertIn(qid, out)
        self.assertRegex(out, r"pending\s+<bob@example.net>")


class Spool(QueueBase):
    def test_spool_survives_kill_9(self):
        remote = mk.Server(domains="example.net")  # not started yet: its port is closed
        self.addCleanup(remote.__exit__, None, None, None)
        srv = self.server(queue_route=f"example.net=127.0.0.1:{remote.ports['smtp']}",
                          queue_retry_min="1h", queue_retry_max="1h", queue_lifetime="1d")
        data = message("survivor")
        qid = self.queue_add(srv, "alice@example.com", ["bob@example.net"], data)
        wait_for(lambda: re.search(rf"id={qid} .*result=deferred", srv.log()),
                 what="first failed attempt")
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(10)
        self.assertIn(qid, self.queue_list(srv))  # the spool, read with no server
        remote.start()
        remote.add_user("bob@example.net", "pw")
        # The next try is an hour away: flush while stopped, so the restart tries it.
        self.assertIn("no server running", srv.cli("queue", "flush").stdout)
        srv.start()
        msgs = wait_for(lambda: stored(remote, "bob@example.net"), what="delivery")
        self.assertEqual(smtpkit.split_received(msgs[0])[1], data.encode())
        wait_for(lambda: self.queue_empty(srv), what="empty queue")


    def test_envelope_of_the_old_format_is_still_delivered(self):
        """A message spooled by a version without DSN support (envelope
        format 1) is picked up after an upgrade: delivered, and its DSN
        items count as not given."""
        remote = mk.Server(domains="example.net").start()
        self.addCleanup(remote.__exit__, None, None, None)
        remote.add_user("bob@example.net", "pw")
        srv = mk.Server(domains="example.com",
                        queue_route=f"example.net=127.0.0.1:{remote.ports['smtp']}", **FAST)
        self.addCleanup(srv.__exit__, None, None, None)
        qid = "%08x00c0ffee" % int(time.time())
        data = message("spooled long ago")
        q = os.path.join(srv.data, "queue")
        for sub in ("msg", "env", "tmp"):
            os.makedirs(os.path.join(q, sub), mode=0o700, exist_ok=True)
        with open(os.path.join(q, "msg", qid), "w", newline="") as f:
            f.write(data)
        now = int(time.time())
        with open(os.path.join(q, "env", qid), "w") as f:
            f.write(f"mailkeep-queue 1\nid {qid}\nsender alice@example.com\nsender-user 0\n"
                    f"flags\nsize {len(data)}\ncreated {now}\nattempts 1\nnext {now}\n"
                    f"last {now}\nerror connect: refused\n"
                    "rcpt\tpending\tbob@example.net\t4.4.1\t-\tconnect: refused\n")
        srv.start()
        wait_for(lambda: "loaded 1 queued message(s)" in srv.log(), what="the spool loaded")
        msgs = wait_for(lambda: stored(remote, "bob@example.net"), what="delivery")
        self.assertEqual(smtpkit.split_received(msgs[0])[1], data.encode())
        wait_for(lambda: self.queue_empty(srv), what="empty queue")
        self.assertIn(f"id={qid} done delivered=1", srv.log())


class Cli(QueueBase):
    def test_list_flush_delete(self):
        fake = FakeSMTP("451 4.3.0 not now")
        self.addCleanup(fake.close)
        srv = self.server(queue_route=f"example.net=127.0.0.1:{fake.port}",
                          queue_retry_min="1h", queue_retry_max="1h", queue_lifetime="1d")
        a = self.queue_add(srv, "alice@example.com", ["bob@example.net", "x@example.net"],
                           message("one"))
        b = self.queue_add(srv, "alice@example.com", ["carol@example.net"], message("two"))
        wait_for(lambda: fake.sessions >= 2, what="first attempts")
        wait_for(lambda: "attempts=1" in self.queue_list(srv), what="attempt recorded")
        out = self.queue_list(srv)
        self.assertIn("2 message(s) queued", out)
        for qid in (a, b):
            self.assertRegex(out, rf"{qid}  age=\d+s  attempts=1  next=in \d+m  size=\d+  "
                                  r"from=<alice@example.com>")
        self.assertIn("pending   <x@example.net>  451 4.3.0 not now", out)
        self.assertIn("last error: 451 4.3.0 not now", out)
        # flush: both are tried again now
        before = fake.sessions
        self.assertIn("flushed: 2", srv.cli("queue", "flush").stdout)
        wait_for(lambda: fake.sessions >= before + 2, what="flushed attempts")
        # delete
        self.assertEqual(srv.cli("queue", "delete", a).stdout.strip(), f"deleted {a}")
        out = self.queue_list(srv)
        self.assertNotIn(a, out)
        self.assertIn(b, out)
        self.assertIn("1 message(s) queued", out)
        p = srv.cli("queue", "delete", a, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such message", p.stderr)
        p = srv.cli("queue", "delete", "../../etc/passwd", check=False)
        self.assertEqual(p.returncode, 1)
        # with the server stopped, delete works on the spool directly
        srv.stop()
        self.assertEqual(srv.cli("queue", "delete", b).stdout.strip(), f"deleted {b}")
        self.assertIn("0 message(s) queued", self.queue_list(srv))
        self.assertEqual(self.inbox(srv), [])  # deleting never bounces


if __name__ == "__main__":
    unittest.main()
