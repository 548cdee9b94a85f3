"""APPEND of a binary literal (~{n}, RFC 3516) against the real server:
parts with NUL, bare LF or CTE binary are stored re-encoded as base64 and
come back byte-exact through BINARY[n]; text sent as ~{n} is stored as it
is; a NUL no re-encoding can keep is NO [UNKNOWN-CTE]."""
import base64
import threading
import time
import unittest

import imap_raw
import mk

ATTACHMENT = bytes(range(256)) + b"\x00\x00line\nbare lf\n\rcr\r\nend\x00"


def multipart(attachment, cte=b""):
    return (b"From: a@example.org\r\nTo: bin@example.com\r\nSubject: binary append\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
            b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nna\xc3\xafve text\r\n"
            b"--b\r\nContent-Type: application/octet-stream\r\n" + cte +
            b"Content-Disposition: attachment; filename=\"x.bin\"\r\n\r\n" + attachment +
            b"\r\n--b--\r\n")


class BinaryAppend(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(services=["imaps"], max_message_size="24M").start()
        cls.n = 0
        for i in range(1, 8):
            cls.srv.add_user(f"bin{i}@example.com", "pw")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def client(self):
        type(self).n += 1
        c = imap_raw.Client(self.srv.connect("imaps"))
        c.login(f"bin{self.n}@example.com", "pw")
        return c

    def append(self, c, data, binary=True, mailbox="INBOX"):
        """APPEND with a non-synchronizing literal; the tagged line."""
        c.n += 1
        tag = f"x{c.n}"
        c.send(f"{tag} APPEND {mailbox} {'~' if binary else ''}{{{len(data)}+}}\r\n".encode()
               + data + b"\r\n")
        while True:
            r = c.read_response()
            if r.startswith(tag.encode() + b" "):
                return r.decode("utf-8", "replace").rstrip("\r\n")

    def fetch1(self, c, items):
        f = imap_raw.fetches(c.ok(f"FETCH 1 ({items})"))
        self.assertEqual(len(f), 1)
        return f[0]

    def test_attachment_with_nul_and_bare_lf(self):
        c = self.client()
        msg = multipart(ATTACHMENT)
        self.assertRegex(self.append(c, msg), r"^x\d+ OK \[APPENDUID \d+ 1\]")
        c.select()
        f = self.fetch1(c, "BINARY.PEEK[2] BINARY.SIZE[2] BODY.PEEK[2] BODY.PEEK[1] "
                           "BINARY.PEEK[1] BODYSTRUCTURE RFC822.SIZE BODY.PEEK[2.MIME]")
        self.assertEqual(f["BINARY[2]"], ATTACHMENT)
        self.assertEqual(int(f["BINARY.SIZE[2]"]), len(ATTACHMENT))
        # BODY[2] is the base64 form, 76-character lines.
        lines = f["BODY[2]"].split(b"\r\n")
        self.assertTrue(all(len(l) == 76 for l in lines[:-1]), lines)
        self.assertEqual(base64.b64decode(b"".join(lines)), ATTACHMENT)
        self.assertIn(b"Content-Transfer-Encoding: base64\r\n", f["BODY[2.MIME]"])
        # The text part is untouched.
        self.assertEqual(f["BODY[1]"], b"na\xc3\xafve text")
        self.assertEqual(f["BINARY[1]"], b"na\xc3\xafve text")
        part2 = f["BODYSTRUCTURE"][1]
        self.assertEqual([part2[0], part2[1]], [b"application", b"octet-stream"])
        self.assertEqual(part2[5].lower(), b"base64")
        stored = self.fetch1(c, "BODY.PEEK[]")["BODY[]"]
        self.assertEqual(int(f["RFC822.SIZE"]), len(stored))
        self.assertNotIn(b"\x00", stored)

    def test_declared_binary_single_part(self):
        # What imaptest's append-binary sends.
        c = self.client()
        body = b"\x00-\xe4\r\n\r\n"
        msg = (b"From: user@domain.org\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\n"
               b"Mime-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
               b"Content-Transfer-Encoding: binary\r\n\r\n" + body)
        self.assertIn(" OK ", self.append(c, msg))
        c.select()
        f = self.fetch1(c, "BINARY.PEEK[1] BINARY.SIZE[1] BODY.PEEK[1]")
        self.assertEqual(f["BINARY[1]"], body)
        self.assertEqual(int(f["BINARY.SIZE[1]"]), 7)
        self.assertEqual(f["BODY[1]"], base64.b64encode(body) + b"\r\n")

    def test_text_as_literal8_is_stored_unchanged(self):
        c = self.client()
        msg = multipart(b"just text\r\nwith CRLF lines \xe2\x82\xac\r\n",
                        b"Content-Transfer-Encoding: 8bit\r\n")
        self.assertIn(" OK ", self.append(c, msg))
        c.select()
        self.assertEqual(self.fetch1(c, "BODY.PEEK[]")["BODY[]"], msg)

    def test_nul_in_header_is_refused(self):
        c = self.client()
        msg = b"Subject: a\x00b\r\nContent-Transfer-Encoding: binary\r\n\r\nbody\x00\r\n"
        tagged = self.append(c, msg)
        self.assertRegex(tagged, r"^x\d+ NO \[UNKNOWN-CTE\] .*header")
        untagged = c.ok("STATUS INBOX (MESSAGES)")
        self.assertIn(b"MESSAGES 0", untagged[0])
        # The session goes on normally.
        self.assertIn(" OK ", self.append(c, multipart(b"\x00")))

    def test_multiappend_text_and_binary(self):
        c = self.client()
        text = b"Subject: plain\r\n\r\nhello\r\n"
        binary = multipart(b"\x00\x01\x02")
        c.n += 1
        tag = f"x{c.n}"
        c.send(f"{tag} APPEND INBOX {{{len(text)}+}}\r\n".encode() + text +
               f" (\\Seen) ~{{{len(binary)}+}}\r\n".encode() + binary + b"\r\n")
        r = c.read_response().decode()
        self.assertRegex(r, rf"^{tag} OK \[APPENDUID \d+ 1:2\]")
        c.select()
        f = imap_raw.fetches(c.ok("FETCH 1:2 (FLAGS BINARY.PEEK[2])"))
        self.assertEqual(f[1]["BINARY[2]"], b"\x00\x01\x02")
        self.assertIn("\\Seen", f[1]["FLAGS"])

    def test_big_binary_attachment_in_bounded_memory(self):
        c = self.client()
        blob = bytes((i * 131 + (i >> 9)) & 0xFF for i in range(20 * 1024 * 1024))
        msg = multipart(blob)
        base = self.srv.rss_kib("RssAnon")
        peak = [base]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], self.srv.rss_kib("RssAnon"))
                time.sleep(0.005)
        t = threading.Thread(target=sample)
        t.start()
        try:
            tagged = self.append(c, msg)
        finally:
            done.set()
            t.join()
        self.assertIn(" OK ", tagged)
        grown = peak[0] - base
        if not mk.ASAN:
            # The spool is a file and the re-encoder reads its mapping:
            # the server's own memory does not hold the message.
            self.assertLess(grown, 12 * 1024, f"server heap grew {grown} KiB for a 20 MB APPEND")
        c.select()
        f = self.fetch1(c, "BINARY.SIZE[2] RFC822.SIZE")
        self.assertEqual(int(f["BINARY.SIZE[2]"]), len(blob))
        # APPENDLIMIT (24M) counts the literal; the stored base64 form is
        # larger and still accepted.
        self.assertIn("APPENDLIMIT=25165824", c.ok("CAPABILITY")[0].decode())
        self.assertGreater(int(f["RFC822.SIZE"]), 24 * 1024 * 1024)
        got = self.fetch1(c, "BINARY.PEEK[2]<10000000.1000>")
        self.assertEqual(got["BINARY[2]<10000000>"], blob[10000000:10001000])


if __name__ == "__main__":
    unittest.main()
