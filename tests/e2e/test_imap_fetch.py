"""IMAP FETCH against the real server: every data item checked against the
message bytes, implicit \\Seen, BINARY, CONDSTORE, a large message read by
a slow client, and python's imaplib and curl as clients. Messages are put
in with `mailkeep deliver`."""
import base64
import imaplib
import os
import re
import shutil
import subprocess
import time
import unittest

import imap_raw
import mk

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "mime")

ENVELOPE_SIMPLE = ('("Mon, 7 Feb 1994 21:52:25 -0800 (PST)" "Lunch on Friday?" '
                   '(("Alice Example" NIL "alice" "example.org")) '
                   '(("Alice Example" NIL "alice" "example.org")) '
                   '(("Alice Example" NIL "alice" "example.org")) '
                   '((NIL NIL "bob" "example.net")) NIL NIL NIL "<B27397-0100000@example.org>")')
BODY_SIMPLE = '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 56 4)'
BODYSTRUCTURE_SIMPLE = '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 56 4 NIL NIL NIL NIL)'
BODYSTRUCTURE_NESTED = (
    '((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 27 2 NIL NIL NIL NIL)'
    '("text" "html" ("charset" "utf-8") NIL NIL "7BIT" 49 1 NIL NIL NIL NIL) "alternative" '
    '("boundary" "inner") NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7BIT" 254 '
    '(NIL "Forwarded" (("Grace" NIL "grace" "example.com")) (("Grace" NIL "grace" "example.com")) '
    '(("Grace" NIL "grace" "example.com")) NIL NIL NIL NIL NIL) '
    '(("text" "plain" NIL NIL NIL "7BIT" 10 1 NIL NIL NIL NIL)'
    '("application" "octet-stream" NIL NIL NIL "base64" 8 NIL NIL NIL NIL) "mixed" '
    '("boundary" "deep") NIL NIL NIL) 14 NIL ("attachment" ("filename" "fwd.eml")) NIL NIL)'
    '("image" "png" ("name" "dot.png") "<dot@example.com>" NIL "base64" 12 NIL NIL NIL NIL) '
    '"mixed" ("boundary" "outer") NIL NIL NIL)')

BLOB = bytes(range(256)) * 3 + b"\x00\x00end"


def read(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def binary_message():
    b64 = base64.encodebytes(BLOB).replace(b"\n", b"\r\n")
    return (b"From: a@example.org\r\nTo: alice@example.com\r\nSubject: binary\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
            b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\nna=C3=AFve=\r\n text\r\n"
            b"--b\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 +
            b"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-unknown\r\n\r\n"
            b"zzz\r\n--b--\r\n")


def numbered(n):
    return (f"From: Sender {n} <s{n}@example.org>\r\nTo: alice@example.com\r\n"
            f"Subject: message {n}\r\nMessage-ID: <n{n}@example.org>\r\n\r\nbody {n}\r\n").encode()


class FetchBase(unittest.TestCase):
    # name -> messages: users and their mail are made before the server
    # starts (accounts added while it runs are not always seen yet).
    USERS = {}

    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server()
        for name, msgs in cls.USERS.items():
            cls.srv.add_user(f"{name}@example.com", "pw")
            for m in msgs:
                cls.deliver(m, f"{name}@example.com")
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    @classmethod
    def deliver(cls, data, addr):
        p = subprocess.run([mk.BIN, "--config", cls.srv.config, "deliver", addr],
                           input=data, capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr

    def user(self, name, msgs=None):
        return f"{name}@example.com"

    def client(self, addr, mailbox="INBOX", examine=False):
        c = imap_raw.Client(self.srv.connect("imaps"))
        c.login(addr, "pw")
        c.ok(f"{'EXAMINE' if examine else 'SELECT'} {mailbox}")
        return c


class Fetch(FetchBase):
    msgs = [read("simple.eml"), read("nested.eml"), binary_message()]
    USERS = {"reader": msgs}
    addr = "reader@example.com"

    def setUp(self):
        self.c = self.client(self.addr, examine=True)

    def one(self, cmd):
        untagged = self.c.ok(cmd)
        f = imap_raw.fetches(untagged)
        self.assertEqual(len(f), 1, untagged)
        return f[0], [u for u in untagged if re.match(rb"\* \d+ FETCH", u)][0]

    def test_envelope_body_bodystructure_exact(self):
        items, raw = self.one("FETCH 1 (ENVELOPE BODY BODYSTRUCTURE)")
        self.assertEqual(imap_raw.raw_value(raw, "ENVELOPE"), ENVELOPE_SIMPLE)
        self.assertEqual(imap_raw.raw_value(raw, "BODY"), BODY_SIMPLE)
        self.assertEqual(imap_raw.raw_value(raw, "BODYSTRUCTURE"), BODYSTRUCTURE_SIMPLE)
        items, raw = self.one("FETCH 2 BODYSTRUCTURE")
        self.assertEqual(imap_raw.raw_value(raw, "BODYSTRUCTURE"), BODYSTRUCTURE_NESTED)

    def test_flags_internaldate_size_uid_and_macros(self):
        untagged = self.c.ok("UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE)")
        f = imap_raw.fetches(untagged)
        self.assertEqual([x["UID"] for x in f], ["1", "2", "3"])
        self.assertEqual([int(x["RFC822.SIZE"]) for x in f], [len(m) for m in self.msgs])
        for x in f:
            self.assertRegex(x["INTERNALDATE"].decode(), r"^\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}$")
            self.assertIsInstance(x["FLAGS"], list)
        fast = imap_raw.fetches(self.c.ok("FETCH 1 FAST"))[0]
        self.assertEqual(set(fast) - {"_seq"}, {"FLAGS", "INTERNALDATE", "RFC822.SIZE"})
        every = imap_raw.fetches(self.c.ok("FETCH 1 ALL"))[0]
        self.assertEqual(set(every) - {"_seq"}, {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"})
        full = imap_raw.fetches(self.c.ok("FETCH 1 FULL"))[0]
        self.assertEqual(set(full) - {"_seq"}, {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"})

    def test_body_sections_byte_exact(self):
        m = self.msgs[1]
        head, _, text = m.partition(b"\r\n\r\n")
        items, _ = self.one("FETCH 2 (BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[1.1] "
                            "BODY.PEEK[1.1.MIME] BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[3] "
                            "BODY.PEEK[2.2] BODY.PEEK[2.1] BODY.PEEK[9] BODY.PEEK[1.9])")
        self.assertEqual(items["BODY[]"], m)
        self.assertEqual(items["BODY[HEADER]"], head + b"\r\n\r\n")
        self.assertEqual(items["BODY[TEXT]"], text)
        self.assertEqual(items["BODY[1.1]"], b"Caf=C3=A9 menu =\r\nattached.")
        self.assertEqual(items["BODY[1.1.MIME]"],
                         b'Content-Type: text/plain; charset="utf-8"\r\n'
                         b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
        self.assertEqual(items["BODY[2.HEADER]"],
                         b"From: Grace <grace@example.com>\r\nSubject: Forwarded\r\n"
                         b'Content-Type: multipart/mixed; boundary="deep"\r\n\r\n')
        self.assertTrue(items["BODY[2.TEXT]"].startswith(b"--deep\r\n"))
        self.assertEqual(items["BODY[3]"], b"iVBORw0KGgo=")
        self.assertEqual(items["BODY[2.2]"], b"AAECAw==")
        self.assertEqual(items["BODY[2.1]"], b"inner text")
        self.assertIsNone(items["BODY[9]"])
        self.assertIsNone(items["BODY[1.9]"])

    def test_header_fields_and_partial(self):
        m = self.msgs[0]
        items, raw = self.one('FETCH 1 (BODY.PEEK[HEADER.FIELDS (subject "FROM" x-none)] '
                              "BODY.PEEK[HEADER.FIELDS.NOT (Return-Path Date From Subject To "
                              "Message-ID)] BODY.PEEK[]<0.10> BODY.PEEK[]<320.100> "
                              "BODY.PEEK[]<5000.10> BODY.PEEK[TEXT]<2.5>)")
        self.assertEqual(items["BODY[HEADER.FIELDS (SUBJECT FROM X-NONE)]"],
                         b"From: Alice Example <alice@example.org>\r\nSubject: Lunch on Friday?\r\n\r\n")
        self.assertEqual(items["BODY[HEADER.FIELDS.NOT (RETURN-PATH DATE FROM SUBJECT TO MESSAGE-ID)]"],
                         b"MIME-Version: 1.0\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n")
        self.assertEqual(items["BODY[]<0>"], m[:10])
        self.assertEqual(items["BODY[]<320>"], m[320:420])
        self.assertEqual(items["BODY[]<5000>"], b"")
        self.assertEqual(items["BODY[TEXT]<2>"], m.partition(b"\r\n\r\n")[2][2:7])

    def test_rfc822_items(self):
        m = self.msgs[0]
        items, _ = self.one("FETCH 1 (RFC822.HEADER RFC822.SIZE)")
        self.assertEqual(items["RFC822.HEADER"], m.partition(b"\r\n\r\n")[0] + b"\r\n\r\n")
        self.assertEqual(int(items["RFC822.SIZE"]), len(m))
        # EXAMINE: RFC822 and RFC822.TEXT do not set \Seen here
        items, _ = self.one("FETCH 1 (RFC822 RFC822.TEXT)")
        self.assertEqual(items["RFC822"], m)
        self.assertEqual(items["RFC822.TEXT"], m.partition(b"\r\n\r\n")[2])
        self.assertNotIn("FLAGS", items)

    def test_binary_base64_qp_and_sizes(self):
        untagged = self.c.ok("FETCH 3 (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1] BINARY.SIZE[1] "
                             "BINARY.PEEK[2]<3.4> BINARY.PEEK[1]<100.5> BINARY.PEEK[7])")
        raw = untagged[0]
        items = imap_raw.fetch_items(raw)
        self.assertEqual(items["BINARY[2]"], BLOB)
        self.assertIn(b"BINARY[2] ~{%d}\r\n" % len(BLOB), raw)   # literal8: NUL inside
        self.assertEqual(int(items["BINARY.SIZE[2]"]), len(BLOB))
        self.assertEqual(items["BINARY[1]"], "naïve text".encode())
        self.assertIn(b"BINARY[1] {11}\r\n", raw)
        self.assertEqual(int(items["BINARY.SIZE[1]"]), 11)
        self.assertEqual(items["BINARY[2]<3>"], BLOB[3:7])
        self.assertEqual(items["BINARY[1]<100>"], b"")
        self.assertIsNone(items["BINARY[7]"])
        untagged, tagged = self.c.run("FETCH 3 BINARY.PEEK[3]")
        self.assertRegex(tagged, r"^x\d+ NO \[UNKNOWN-CTE\]")

    def test_preview_and_modseq(self):
        items, _ = self.one("FETCH 1 (PREVIEW MODSEQ)")
        self.assertTrue(items["PREVIEW"].startswith(b"Hi Bob"))
        self.assertRegex(items["MODSEQ"][0], r"^\d+$")

    def test_errors(self):
        for bad in ("FETCH", "FETCH 1", "FETCH 1 FOO", "FETCH 0 FLAGS", "FETCH 4 FLAGS",
                    "FETCH 1 BODY[1.0]", "FETCH 1 (FLAGS ALL)", "FETCH 1 BINARY[TEXT]",
                    "FETCH x FLAGS", "UID FETCH 1 FLAGS (VANISHED)",
                    "FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)"):
            untagged, tagged = self.c.run(bad)
            self.assertRegex(tagged, r"^x\d+ BAD ", bad)
        # UID FETCH of UIDs that do not exist: OK, nothing
        untagged = self.c.ok("UID FETCH 100:200 FLAGS")
        self.assertEqual(imap_raw.fetches(untagged), [])
        c = imap_raw.Client(self.srv.connect("imaps"))
        c.login(self.addr, "pw")
        untagged, tagged = c.run("FETCH 1 FLAGS")
        self.assertRegex(tagged, r"^x\d+ BAD ")

    def test_imaplib(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"], ssl_context=mk.tls_context())
        c.login(self.addr, "pw")
        c.select("INBOX", readonly=True)
        typ, data = c.fetch("1", "(RFC822)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], self.msgs[0])
        typ, data = c.uid("FETCH", "2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(data[0][1], b"Subject: Nested structure\r\n\r\n")
        typ, data = c.fetch("1:3", "(UID RFC822.SIZE)")
        self.assertEqual(len(data), 3)
        c.logout()

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_fetch_by_uid(self):
        url = f"imaps://127.0.0.1:{self.srv.ports['imaps']}/INBOX;UID=2"
        p = subprocess.run(["curl", "-sS", "-k", "--user", f"{self.addr}:pw", url],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, self.msgs[1])
        url = f"imaps://127.0.0.1:{self.srv.ports['imaps']}/INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)"
        p = subprocess.run(["curl", "-sS", "-k", "--user", f"{self.addr}:pw", url],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), b"Subject: Lunch on Friday?")


BIG_BODY = b"".join(b"line %07d of a long message, padded to some width....\r\n" % i
                   for i in range(400000))
BIG = b"From: big@example.org\r\nSubject: big\r\n\r\n" + BIG_BODY


class FetchChanges(FetchBase):
    USERS = {
        "seen": [read("simple.eml"), read("nested.eml"), read("simple.eml")],
        "examine": [read("simple.eml")],
        "modseq": [numbered(i) for i in range(1, 6)],
        "hundred": [numbered(i) for i in range(1, 101)],
        "large": [BIG],
    }

    def test_implicit_seen(self):
        addr = self.user("seen", [read("simple.eml"), read("nested.eml"), read("simple.eml")])
        c = self.client(addr)
        items = imap_raw.fetches(c.ok("FETCH 1 (BODY.PEEK[TEXT] RFC822.HEADER BINARY.PEEK[1])"))[0]
        self.assertNotIn("FLAGS", items)
        items = imap_raw.fetches(c.ok("FETCH 1 BODY[TEXT]"))[0]
        self.assertIn("\\Seen", items["FLAGS"])
        items = imap_raw.fetches(c.ok("FETCH 1 FLAGS"))[0]
        self.assertIn("\\Seen", items["FLAGS"])
        # already seen: no FLAGS unless asked
        items = imap_raw.fetches(c.ok("FETCH 1 BODY[TEXT]"))[0]
        self.assertNotIn("FLAGS", items)
        # BINARY and RFC822 set it too; UID FETCH reports UID
        items = imap_raw.fetches(c.ok("UID FETCH 2 BINARY[1.1]"))[0]
        self.assertIn("\\Seen", items["FLAGS"])
        self.assertEqual(items["UID"], "2")
        items = imap_raw.fetches(c.ok("FETCH 3 RFC822"))[0]
        self.assertIn("\\Seen", items["FLAGS"])
        # another session sees it
        d = self.client(addr)
        f = imap_raw.fetches(d.ok("FETCH 1:3 FLAGS"))
        self.assertTrue(all("\\Seen" in x["FLAGS"] for x in f))

    def test_examine_does_not_set_seen(self):
        addr = self.user("examine", [read("simple.eml")])
        c = self.client(addr, examine=True)
        items = imap_raw.fetches(c.ok("FETCH 1 BODY[]"))[0]
        self.assertNotIn("FLAGS", items)
        d = self.client(addr)
        items = imap_raw.fetches(d.ok("FETCH 1 FLAGS"))[0]
        self.assertNotIn("\\Seen", items["FLAGS"])

    def test_changedsince_and_modseq(self):
        addr = self.user("modseq", [numbered(i) for i in range(1, 6)])
        c = self.client(addr)
        f = imap_raw.fetches(c.ok("FETCH 1:* (MODSEQ)"))
        base = max(int(x["MODSEQ"][0]) for x in f)
        c.ok("FETCH 2 BODY[]")        # \Seen on 2: its modseq grows
        c.ok("FETCH 4 BODY[TEXT]")
        f = imap_raw.fetches(c.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {base})"))
        self.assertEqual([x["_seq"] for x in f], [2, 4])
        self.assertTrue(all(int(x["MODSEQ"][0]) > base for x in f))
        # with CONDSTORE on, the implicit \Seen change reports MODSEQ
        items = imap_raw.fetches(c.ok("FETCH 5 BODY[]"))[0]
        self.assertIn("\\Seen", items["FLAGS"])
        self.assertIn("MODSEQ", items)

    def test_hundred_messages_envelope(self):
        addr = self.user("hundred")
        c = self.client(addr)
        f = imap_raw.fetches(c.ok("FETCH 1:* ENVELOPE"))
        self.assertEqual(len(f), 100)
        self.assertEqual([x["_seq"] for x in f], list(range(1, 101)))
        self.assertEqual([x["ENVELOPE"][1] for x in f],
                         [f"message {i}".encode() for i in range(1, 101)])
        self.assertEqual([x["ENVELOPE"][9] for x in f],
                         [f"<n{i}@example.org>".encode() for i in range(1, 101)])
        f = imap_raw.fetches(c.ok("UID FETCH 50:* (UID)"))
        self.assertEqual([x["UID"] for x in f], [str(i) for i in range(50, 101)])

    def test_large_message_slow_reader(self):
        """A 24 MB body goes out while the client reads slowly; the
        server's own memory does not grow by the message size."""
        body, msg = BIG_BODY, BIG
        addr = self.user("large")
        c = self.client(addr)

        def rss_anon():
            with open(f"/proc/{self.srv.pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        return int(line.split()[1])
            return 0

        before = rss_anon()
        c.send("big FETCH 1 (BODY.PEEK[] BINARY.PEEK[1])\r\n")
        got = bytearray()
        peak = before
        deadline = time.time() + 120
        while b"\r\nbig OK" not in got[-64:] and time.time() < deadline:
            c.sock.settimeout(30)
            chunk = c.sock.recv(32768)
            self.assertTrue(chunk)
            got += chunk
            if len(got) % (1 << 20) < 32768:
                time.sleep(0.02)      # a slow reader
                peak = max(peak, rss_anon())
        head = b"* 1 FETCH (BODY[] {%d}\r\n" % len(msg)
        got = bytes(got)
        self.assertTrue(got.startswith(head), got[:100])
        self.assertEqual(got[len(head):len(head) + len(msg)], msg)
        rest = got[len(head) + len(msg):]
        self.assertTrue(rest.startswith(b" BINARY[1] {%d}\r\n" % len(body)), rest[:80])
        self.assertTrue(rest.endswith(b")\r\nbig OK FETCH completed\r\n"), rest[-80:])
        with open(f"/proc/{self.srv.pid}/maps") as f:
            asan = "libasan" in f.read()
        if not asan:   # ASan's quarantine keeps freed output buffers
            self.assertLess(peak - before, 16 * 1024, f"server grew {peak - before} KiB")
        # the session is still usable
        self.assertEqual(imap_raw.fetches(c.ok("FETCH 1 RFC822.SIZE"))[0]["RFC822.SIZE"], str(len(msg)))


if __name__ == "__main__":
    unittest.main()
