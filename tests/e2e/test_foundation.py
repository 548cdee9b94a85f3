"""Foundation (issue 2): listeners, TLS, limits, back-pressure, signals,
accounts and authentication, against a real server on loopback."""
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import unittest

import mk


class TlsAndSignals(unittest.TestCase):
    def test_implicit_tls_handshake_with_openssl_s_client(self):
        with mk.Server() as srv:
            p = subprocess.run(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{srv.ports['pop3s']}",
                 "-brief", "-ign_eof"],
                input="QUIT\r\n", capture_output=True, text=True, timeout=20)
            self.assertIn("+OK", p.stdout, p.stdout + p.stderr)
            self.assertRegex(p.stderr, r"Protocol version: TLSv1\.[23]")

    def test_tls_below_1_2_is_refused(self):
        with mk.Server() as srv:
            ctx = mk.tls_context()
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            try:
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            except ssl.SSLError:
                pass
            raw = socket.create_connection(("127.0.0.1", srv.ports["pop3s"]), timeout=5)
            with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError)):
                ctx.wrap_socket(raw).recv(100)
            raw.close()

    def test_self_signed_certificate_is_created_once(self):
        with mk.Server() as srv:
            cert = os.path.join(srv.data, "tls", "cert.pem")
            key = os.path.join(srv.data, "tls", "key.pem")
            self.assertTrue(os.path.exists(cert))
            self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
            before = open(cert).read()
            srv.stop()
            srv.start()
            self.assertEqual(open(cert).read(), before)

    def test_sigterm_stops_within_2s_saying_goodbye(self):
        srv = mk.Server()
        try:
            srv.start()
            c = mk.Lines(srv.connect("pop3s"))
            self.assertTrue(c.readline().startswith("+OK"))
            rc, took = srv.stop()
            self.assertEqual(rc, 0, srv.log())
            self.assertLess(took, 2.0)
            self.assertIn("shutting down", c.readline().lower())
        finally:
            srv.__exit__(None, None, None)

    def test_sighup_reloads_certificate(self):
        srv = mk.Server()
        cert = os.path.join(srv.tmp, "c.pem")
        key = os.path.join(srv.tmp, "k.pem")

        def make_cert(cn):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                            f"/CN={cn}", "-keyout", key, "-out", cert],
                           check=True, capture_output=True, timeout=30)

        def peer_cn():
            s = srv.connect("pop3s")
            der = s.getpeercert(binary_form=True)
            s.close()
            p = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"],
                               input=der, capture_output=True, timeout=10)
            return p.stdout.decode()

        make_cert("first.test")
        with open(srv.config, "a") as f:
            f.write(f"tls_cert = {cert}\ntls_key = {key}\n")
        with srv:
            self.assertIn("first.test", peer_cn())
            make_cert("second.test")
            os.kill(srv.pid, signal.SIGHUP)
            deadline = time.time() + 5
            while "second.test" not in peer_cn() and time.time() < deadline:
                time.sleep(0.1)
            self.assertIn("second.test", peer_cn())


    def test_sighup_rereads_log_level(self):
        with mk.Server(log_level="info") as srv:
            c = mk.Lines(srv.connect("pop3"))
            c.readline()
            c.cmd("CAPA")
            self.assertNotIn("debug pop3", srv.log())
            with open(srv.config, "a") as f:
                f.write("log_level = debug\n")
            os.kill(srv.pid, signal.SIGHUP)
            deadline = time.time() + 5
            while "log_level=debug applied" not in srv.log() and time.time() < deadline:
                time.sleep(0.05)
            self.assertIn("log_level=debug applied", srv.log())
            d = mk.Lines(srv.connect("pop3"))
            d.readline()
            deadline = time.time() + 5
            while "debug pop3" not in srv.log() and time.time() < deadline:
                time.sleep(0.05)
            self.assertIn("debug pop3", srv.log())
            # A bad file is refused and the running settings stay.
            with open(srv.config, "a") as f:
                f.write("no_such_key = 1\n")
            os.kill(srv.pid, signal.SIGHUP)
            deadline = time.time() + 5
            while "unchanged" not in srv.log() and time.time() < deadline:
                time.sleep(0.05)
            self.assertIn("no_such_key", srv.log())


class Limits(unittest.TestCase):
    def test_10mb_without_newline_is_refused_others_served(self):
        with mk.Server(max_line="64K") as srv:
            bad = mk.Lines(srv.connect("pop3"))
            self.assertTrue(bad.readline().startswith("+OK"))
            errors = []

            def flood():
                chunk = b"A" * 65536
                try:
                    for _ in range(160):  # 10 MiB
                        bad.sock.sendall(chunk)
                except OSError as e:
                    errors.append(e)

            t = threading.Thread(target=flood)
            t.start()
            good = mk.Lines(srv.connect("pop3"))
            self.assertTrue(good.readline().startswith("+OK"))
            self.assertEqual(good.cmd("CAPA"), "+OK Capability list follows")
            self.assertIn("STLS", good.read_multiline())
            t.join(30)
            self.assertFalse(t.is_alive())
            self.assertEqual(bad.readline(), "-ERR Line too long")
            self.assertTrue(bad.closed_by_peer())
            self.assertEqual(good.cmd("NOOP").split()[0], "-ERR")  # still served
            self.assertIn("reason=line-too-long", srv.log())

    def test_client_that_never_reads_cannot_grow_server_memory(self):
        with mk.Server(output_buffer_limit="64K") as srv:
            base = srv.rss_kib()
            s = srv.connect("pop3")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(2)
            sent = 0
            cmd = b"CAPA\r\n" * 10000
            try:
                # ~160 bytes of answer per 6 bytes asked: 50 MB of commands
                # would be ~1.3 GB of output if the server kept buffering.
                while sent < 50 * 1024 * 1024:
                    s.sendall(cmd)
                    sent += len(cmd)
            except (socket.timeout, OSError):
                pass  # the server stopped reading: that is the point
            grown = srv.rss_kib() - base
            self.assertLess(sent, 50 * 1024 * 1024, "server kept reading forever")
            self.assertLess(grown, 32 * 1024, f"RSS grew {grown} KiB")
            other = mk.Lines(srv.connect("pop3"))
            self.assertTrue(other.readline().startswith("+OK"))
            s.close()

    def test_half_closed_pipeline_gets_every_answer(self):
        with mk.Server(output_buffer_limit="64K") as srv:
            s = srv.connect("pop3")
            n = 3000  # ~450 KB of answers: several times the output limit
            s.sendall(b"CAPA\r\n" * n + b"QUIT\r\n")
            s.shutdown(socket.SHUT_WR)
            data = b""
            s.settimeout(20)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            self.assertEqual(data.count(b"+OK Capability list follows"), n)
            self.assertTrue(data.endswith(b"+OK mailkeep POP3 server signing off\r\n"))

    def test_connections_per_ip_limit(self):
        with mk.Server(max_connections_per_ip=3) as srv:
            time.sleep(0.5)  # let the harness's readiness probes close
            held = [mk.Lines(srv.connect("pop3")) for _ in range(3)]
            for h in held:
                self.assertTrue(h.readline().startswith("+OK"))
            extra = mk.Lines(srv.connect("pop3"))
            self.assertIn("Too many connections", extra.readline())
            self.assertTrue(extra.closed_by_peer())
            held[0].cmd("QUIT")
            self.assertTrue(held[0].closed_by_peer())
            time.sleep(0.2)
            again = mk.Lines(srv.connect("pop3"))
            self.assertTrue(again.readline().startswith("+OK"))

    def test_preauth_idle_timeout_disconnects(self):
        with mk.Server(preauth_timeout="1s") as srv:
            c = mk.Lines(srv.connect("pop3"))
            self.assertTrue(c.readline().startswith("+OK"))
            self.assertIn("Autologout", c.readline(timeout=5))
            self.assertTrue(c.closed_by_peer())


class Accounts(unittest.TestCase):
    def test_user_add_then_login_right_and_wrong_password(self):
        with mk.Server() as srv:
            srv.add_user("alice@example.com", "correct horse")
            import sqlite3
            db = sqlite3.connect(os.path.join(srv.data, "accounts.db"))
            (h,) = db.execute("SELECT password_hash FROM accounts").fetchone()
            self.assertTrue(h.startswith("$argon2id$"), h)

            c = mk.Lines(srv.connect("pop3s"))
            c.readline()
            self.assertTrue(c.cmd("USER alice@example.com").startswith("+OK"))
            self.assertEqual(c.cmd("PASS wrong"), "-ERR [AUTH] Authentication failed")
            self.assertTrue(c.cmd("USER alice@example.com").startswith("+OK"))
            reply = c.cmd("PASS correct horse")
            self.assertNotIn("[AUTH]", reply)
            self.assertIn("login ok", srv.log())

    def test_auth_plain_sasl_with_initial_response(self):
        import base64
        with mk.Server() as srv:
            srv.add_user("bob@example.com", "pw-bob")
            c = mk.Lines(srv.connect("pop3s"))
            c.readline()
            bad = base64.b64encode(b"\0bob@example.com\0nope").decode()
            self.assertEqual(c.cmd(f"AUTH PLAIN {bad}"), "-ERR [AUTH] Authentication failed")
            good = base64.b64encode(b"\0bob@example.com\0pw-bob").decode()
            self.assertNotIn("[AUTH]", c.cmd(f"AUTH PLAIN {good}"))

    def test_failed_logins_slow_down(self):
        with mk.Server() as srv:
            srv.add_user("carol@example.com", "pw")
            c = mk.Lines(srv.connect("pop3s"))
            c.readline()
            took = []
            for _ in range(3):
                c.cmd("USER carol@example.com")
                t0 = time.time()
                self.assertEqual(c.cmd("PASS bad", timeout=30), "-ERR [AUTH] Authentication failed")
                took.append(time.time() - t0)
            # 250 ms, then 500 ms, then 1 s at least: each answer held longer.
            self.assertGreaterEqual(took[1], 0.45)
            self.assertGreaterEqual(took[2], 0.95)

    def test_plaintext_password_refused_before_stls(self):
        with mk.Server() as srv:
            srv.add_user("dave@example.com", "pw")
            c = mk.Lines(srv.connect("pop3"))
            c.readline()
            self.assertEqual(c.cmd("CAPA"), "+OK Capability list follows")
            caps = c.read_multiline()
            self.assertIn("STLS", caps)
            self.assertNotIn("USER", caps)
            self.assertTrue(c.cmd("USER dave@example.com").startswith("-ERR [AUTH]"))
            self.assertTrue(c.cmd("AUTH PLAIN AGRhdmVAZXhhbXBsZS5jb20AcHc=").startswith("-ERR [AUTH]"))
            self.assertEqual(c.cmd("STLS"), "+OK Begin TLS negotiation")
            t = mk.Lines(mk.tls_context().wrap_socket(c.sock))
            self.assertTrue(t.cmd("USER dave@example.com").startswith("+OK"))
            self.assertNotIn("[AUTH]", t.cmd("PASS pw"))

    def test_plaintext_networks_allow_password_without_tls(self):
        with mk.Server(plaintext_auth_networks="127.0.0.0/8") as srv:
            srv.add_user("erin@example.com", "pw")
            c = mk.Lines(srv.connect("pop3"))
            c.readline()
            self.assertTrue(c.cmd("USER erin@example.com").startswith("+OK"))
            self.assertNotIn("[AUTH]", c.cmd("PASS pw"))

    def test_starttls_discards_pipelined_plaintext(self):
        with mk.Server() as srv:
            c = mk.Lines(srv.connect("pop3"))
            c.readline()
            # An attacker appends a command after STLS in the same packet.
            c.send("STLS\r\nCAPA\r\n")
            self.assertEqual(c.readline(), "+OK Begin TLS negotiation")
            t = mk.Lines(mk.tls_context().wrap_socket(c.sock))
            with self.assertRaises((TimeoutError, socket.timeout)):
                t.readline(timeout=1)  # the injected CAPA got no answer
            self.assertEqual(t.cmd("CAPA"), "+OK Capability list follows")
            self.assertNotIn("STLS", t.read_multiline())


class Config(unittest.TestCase):
    def test_unknown_key_names_file_line_and_key(self):
        srv = mk.Server()
        with open(srv.config, "a") as f:
            f.write("no_such_key = 1\n")
        p = srv.cli("check-config", check=False)
        self.assertNotEqual(p.returncode, 0)
        n = len(open(srv.config).read().splitlines())
        self.assertIn(f"{srv.config}:{n}:", p.stderr)
        self.assertIn("no_such_key", p.stderr)
        srv.__exit__(None, None, None)

    def test_check_config_ok(self):
        srv = mk.Server()
        p = srv.cli("check-config")
        self.assertIn("configuration OK", p.stdout)
        srv.__exit__(None, None, None)


@unittest.skipUnless(os.geteuid() == 0, "needs root to test the privilege drop")
class PrivilegeDrop(unittest.TestCase):
    def test_runs_as_configured_user_and_owns_data(self):
        import pwd
        nobody = pwd.getpwnam("nobody")
        srv = mk.Server(user="nobody")
        os.chmod(srv.tmp, 0o755)
        with srv:
            with open(f"/proc/{srv.pid}/status") as f:
                uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
            self.assertEqual(set(map(int, uids)), {nobody.pw_uid})
            self.assertEqual(os.stat(srv.data).st_uid, nobody.pw_uid)
            # The CLI, run as root, drops too: the server can still read it.
            srv.add_user("frank@example.com", "pw")
            self.assertEqual(os.stat(os.path.join(srv.data, "accounts.db")).st_uid, nobody.pw_uid)
            c = mk.Lines(srv.connect("pop3s"))
            c.readline()
            c.cmd("USER frank@example.com")
            self.assertNotIn("[AUTH]", c.cmd("PASS pw"))


if __name__ == "__main__":
    unittest.main()
