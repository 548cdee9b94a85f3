"""SMTP session life: STARTTLS injection, timeouts, too many errors,
shutdown, the busy reply's absence on a normal start."""
import ssl
import unittest

import mk
import smtpkit


class Session(unittest.TestCase):
    def test_starttls_discards_pipelined_plaintext(self):
        with mk.Server() as srv:
            r = smtpkit.Raw(srv, "smtp")
            self.addCleanup(r.close)
            self.assertEqual(r.cmd("EHLO c.example")[0], 250)
            r.send(b"STARTTLS\r\nMAIL FROM:<injected@x.example>\r\n")
            self.assertEqual(r.reply()[0], 220)
            tls = mk.tls_context().wrap_socket(r.lines.sock)
            r.lines = mk.Lines(tls)
            # The injected MAIL was dropped: no reply for it, and EHLO is
            # needed again (state from before TLS is forgotten).
            self.assertEqual(r.code("MAIL FROM:<a@x.example>"), 503)
            code, lines = r.cmd("EHLO c.example")
            self.assertEqual(code, 250)
            self.assertNotIn("STARTTLS", lines)
            self.assertEqual(r.code("MAIL FROM:<a@x.example>"), 250)

    def test_ehlo_offers_what_works(self):
        with mk.Server() as srv:
            r = smtpkit.Raw(srv, "smtp")
            self.addCleanup(r.close)
            code, lines = r.cmd("EHLO c.example")
            self.assertEqual(code, 250)
            for ext in ("PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES",
                        "CHUNKING", "STARTTLS", "DSN"):
                self.assertTrue(any(l.startswith(ext) for l in lines), (ext, lines))
            self.assertEqual(r.code("MAIL FROM:<a@x.example> RET=HDRS"), 250)

    def test_timeout(self):
        with mk.Server(smtp_timeout="1s") as srv:
            r = smtpkit.Raw(srv, "lmtp")
            self.addCleanup(r.close)
            self.assertEqual(r.reply(timeout=5)[0], 421)
            self.assertTrue(r.lines.closed_by_peer())

    def test_too_many_errors_closes(self):
        with mk.Server() as srv:
            r = smtpkit.Raw(srv, "smtp")
            self.addCleanup(r.close)
            r.send(b"BOGUS\r\n" * 25)
            codes = [r.reply()[0] for _ in range(21)]
            self.assertEqual(codes, [500] * 20 + [421])
            self.assertTrue(r.lines.closed_by_peer())

    def test_shutdown_says_goodbye(self):
        srv = mk.Server().start()
        try:
            r = smtpkit.Raw(srv, "submission")
            self.addCleanup(r.close)
            self.assertEqual(r.greeting[0], 220)
            self.assertEqual(r.cmd("EHLO c.example")[0], 250)
            rc, _ = srv.stop()
            self.assertEqual(rc, 0)
            self.assertEqual(r.reply()[0], 421)
        finally:
            srv.__exit__(None, None, None)


if __name__ == "__main__":
    unittest.main()
