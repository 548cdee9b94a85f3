"""IMAP SEARCH against the real server: every key of RFC 9051 / RFC 3501,
sequence sets and UIDs (with a gap so they differ), ESEARCH return options,
SAVE and "$", MODSEQ, charsets, and python's imaplib. Messages go in with
APPEND (flags and internal dates chosen per message)."""
import imaplib
import re
import unittest

import imap_raw
import mk

# (flags, internal date, message)
MESSAGES = [
    ("(\\Answered)", "01-Feb-1994 10:00:00 +0000",
     "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nCc: carol@example.net\r\n"
     "Bcc: dave@example.net\r\nSubject: Lunch plans\r\nDate: Tue, 1 Feb 1994 10:00:00 +0000\r\n"
     "X-Tag: red\r\n\r\nShall we have pizza?\r\n"),
    ("(\\Flagged $Work)", "15-Jun-2020 12:00:00 +0000",
     "From: Erin <erin@example.com>\r\nTo: alice@example.com\r\nSubject: Quarterly report\r\n"
     "Date: Mon, 15 Jun 2020 12:00:00 +0000\r\n\r\n" + "numbers and more numbers\r\n" * 150),
    ("(\\Deleted \\Seen)", "20-Jun-2020 23:30:00 -0500",
     "From: frank@example.com\r\nTo: alice@example.com\r\nSubject: Re: Lunch plans\r\n\r\n"
     "pizza again\r\n"),
    ("(\\Draft)", "01-Jan-2024 08:00:00 +0100",
     "From: gina@example.com\r\nTo: alice@example.com\r\nSubject: =?UTF-8?Q?Caf=C3=A9_na=C3=AFve?=\r\n"
     "Date: Mon, 1 Jan 2024 08:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n"
     "Content-Transfer-Encoding: 8bit\r\n\r\nun caf\u00e9 cr\u00e8me\r\n"),
    ("()", "02-Jan-2024 09:00:00 +0000",
     "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: hello\r\n"
     "Date: Tue, 2 Jan 2024 09:00:00 +0000\r\nX-Tag: blue\r\n\r\nJust saying hello.\r\n"),
]


def search_nums(untagged):
    for u in untagged:
        m = re.match(rb"\* SEARCH( [^\r]*)?\r\n", u)
        if m:
            return [int(x) for x in (m.group(1) or b"").split() if x.isdigit()]
    raise AssertionError(f"no SEARCH response in {untagged}")


class Search(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server()
        cls.srv.add_user("alice@example.com", "pw")
        cls.srv.start()
        c = cls.connect()
        # A first message, expunged, so that UIDs are sequence numbers + 1.
        cls.append(c, "(\\Deleted)", "01-Jan-2000 00:00:00 +0000", "Subject: gone\r\n\r\nx\r\n")
        c.ok("SELECT INBOX")
        c.ok("EXPUNGE")
        c.ok("UNSELECT")
        for flags, date, msg in MESSAGES:
            cls.append(c, flags, date, msg)

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    @classmethod
    def connect(cls):
        c = imap_raw.Client(cls.srv.connect("imaps"))
        c.login("alice@example.com", "pw")
        return c

    @staticmethod
    def append(c, flags, date, msg):
        data = msg.encode()
        c.send(f'a APPEND INBOX {flags} "{date}" {{{len(data)}+}}\r\n'.encode() + data + b"\r\n")
        r = c.read_response()
        while not r.startswith(b"a "):
            r = c.read_response()
        assert r.startswith(b"a OK"), r

    def setUp(self):
        self.c = self.connect()
        self.c.ok("EXAMINE INBOX")

    def s(self, criteria):
        return search_nums(self.c.ok(f"SEARCH {criteria}"))

    def test_flag_keys(self):
        cases = {
            "ALL": [1, 2, 3, 4, 5], "ANSWERED": [1], "UNANSWERED": [2, 3, 4, 5],
            "FLAGGED": [2], "UNFLAGGED": [1, 3, 4, 5], "DELETED": [3], "UNDELETED": [1, 2, 4, 5],
            "SEEN": [3], "UNSEEN": [1, 2, 4, 5], "DRAFT": [4], "UNDRAFT": [1, 2, 3, 5],
            "KEYWORD $Work": [2], "keyword $work": [2], "UNKEYWORD $Work": [1, 3, 4, 5],
            "KEYWORD $Nothing": [], "UNKEYWORD $Nothing": [1, 2, 3, 4, 5],
            "KEYWORD \\Seen": [3],
        }
        for crit, want in cases.items():
            self.assertEqual(self.s(crit), want, crit)

    def test_recent_new_old(self):
        # EXAMINE claims no \Recent: nothing is recent here
        self.assertEqual(self.s("RECENT"), [])
        self.assertEqual(self.s("NEW"), [])
        self.assertEqual(self.s("OLD"), [1, 2, 3, 4, 5])

    def test_size_and_date_keys(self):
        cases = {
            "LARGER 3000": [2], "SMALLER 3000": [1, 3, 4, 5], "LARGER 100000": [],
            "BEFORE 2-Feb-1994": [1], "BEFORE 1-Feb-1994": [], "ON 1-Feb-1994": [1],
            "ON 20-Jun-2020": [3], "ON 21-Jun-2020": [], 'SINCE "01-Jan-2024"': [4, 5],
            "SINCE 16-Jun-2020 BEFORE 1-Jan-2024": [3],
            "SENTBEFORE 1-Jan-2000": [1], "SENTON 15-Jun-2020": [2],
            "SENTON 20-Jun-2020": [3],            # no Date: header: internal date
            "SENTSINCE 2-Jan-2024": [5], "SENTSINCE 1-Jan-2024": [4, 5],
        }
        for crit, want in cases.items():
            self.assertEqual(self.s(crit), want, crit)

    def test_string_keys(self):
        cases = {
            "FROM alice": [1, 5], "FROM ERIN": [2], "TO bob": [1, 5], "CC carol": [1],
            "BCC dave": [1], "SUBJECT lunch": [1, 3], 'SUBJECT "Re: Lunch"': [3],
            "BODY pizza": [1, 3], "BODY numbers": [2], "TEXT red": [1], "TEXT pizza": [1, 3],
            'HEADER X-Tag blue': [5], 'HEADER x-tag ""': [1, 5], 'HEADER Subject report': [2],
            "FROM nobody": [], 'SUBJECT ""': [1, 2, 3, 4, 5],
        }
        for crit, want in cases.items():
            self.assertEqual(self.s(crit), want, crit)
        # UTF-8: in a literal with CHARSET, and with US-ASCII
        cafe = "café".encode()
        self.c.send(b"u1 SEARCH CHARSET UTF-8 SUBJECT {%d}\r\n" % len(cafe))
        self.assertTrue(self.c.read_response().startswith(b"+"))
        self.c.send(cafe + b"\r\n")
        untagged = []
        r = self.c.read_response()
        while not r.startswith(b"u1 "):
            untagged.append(r)
            r = self.c.read_response()
        self.assertTrue(r.startswith(b"u1 OK"), r)
        self.assertEqual(search_nums(untagged), [4])
        self.assertEqual(self.s("CHARSET US-ASCII FROM gina"), [4])
        untagged, tagged = self.c.run("SEARCH CHARSET ISO-8859-1 FROM gina")
        self.assertRegex(tagged, r"^x\d+ NO \[BADCHARSET \(UTF-8 US-ASCII\)\]")

    def test_sets_uids_and_logic(self):
        cases = {
            "2,4": [2, 4], "*": [5], "2:*": [2, 3, 4, 5], "4:2": [2, 3, 4],
            "UID 3:4": [2, 3], "UID 1": [], "UID *": [5], "UID 6:100": [5],
            "NOT SEEN": [1, 2, 4, 5], "OR ANSWERED FLAGGED": [1, 2],
            "OR (FROM alice SUBJECT hello) DRAFT": [4, 5], "NOT (FROM alice)": [2, 3, 4],
            "NOT NOT 1": [1], "1:3 UNSEEN": [1, 2], "OR 1 OR 2 3": [1, 2, 3],
        }
        for crit, want in cases.items():
            self.assertEqual(self.s(crit), want, crit)
        # UID SEARCH answers UIDs
        self.assertEqual(search_nums(self.c.ok("UID SEARCH FROM alice")), [2, 6])
        self.assertEqual(search_nums(self.c.ok("UID SEARCH 1:2")), [2, 3])

    def test_errors(self):
        # A number past the last message selects nothing (not an error in
        # a search key, unlike FETCH/STORE); 0 is no sequence number at all.
        self.assertEqual(self.s("6"), [])
        for bad in ("SEARCH", "SEARCH FOO", "SEARCH 0", "SEARCH LARGER x",
                    "SEARCH BEFORE 2024-01-01", "SEARCH OR SEEN", "SEARCH (SEEN",
                    "SEARCH RETURN (BOGUS) ALL", "SEARCH HEADER", "SEARCH UID"):
            untagged, tagged = self.c.run(bad)
            self.assertRegex(tagged, r"^x\d+ BAD ", bad)
        c = self.connect()
        untagged, tagged = c.run("SEARCH ALL")
        self.assertRegex(tagged, r"^x\d+ BAD ")

    def test_esearch(self):
        untagged = self.c.ok("SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN")
        self.assertEqual(untagged[-1].rstrip(b"\r\n").decode(),
                         f'* ESEARCH (TAG "x{self.c.n}") MIN 1 MAX 5 COUNT 4 ALL 1:2,4:5')
        untagged = self.c.ok("UID SEARCH RETURN () ALL")
        self.assertEqual(untagged[-1].rstrip(b"\r\n").decode(),
                         f'* ESEARCH (TAG "x{self.c.n}") UID ALL 2:6')
        untagged = self.c.ok("SEARCH RETURN (COUNT MIN) FROM nobody")
        self.assertEqual(untagged[-1].rstrip(b"\r\n").decode(),
                         f'* ESEARCH (TAG "x{self.c.n}") COUNT 0')
        untagged = self.c.ok("UID SEARCH RETURN (MAX) SUBJECT lunch")
        self.assertEqual(untagged[-1].rstrip(b"\r\n").decode(),
                         f'* ESEARCH (TAG "x{self.c.n}") UID MAX 4')

    def test_save_and_dollar(self):
        c = self.connect()
        c.ok("SELECT INBOX")
        untagged = c.ok("SEARCH RETURN (SAVE) OR FLAGGED DRAFT")
        self.assertFalse([u for u in untagged if b"ESEARCH" in u or b"* SEARCH" in u])
        f = imap_raw.fetches(c.ok("FETCH $ (UID)"))
        self.assertEqual([x["UID"] for x in f], ["3", "5"])
        self.assertEqual(search_nums(c.ok("SEARCH $")), [2, 4])
        self.assertEqual(search_nums(c.ok("UID SEARCH UID $ DRAFT")), [5])
        self.assertEqual(search_nums(c.ok("SEARCH NOT $")), [1, 3, 5])
        # MIN alone saves just the minimum; SAVE with ALL saves all
        c.ok("SEARCH RETURN (SAVE MIN) ALL")
        self.assertEqual(search_nums(c.ok("SEARCH $")), [1])
        untagged = c.ok("SEARCH RETURN (SAVE MIN MAX) ALL")
        self.assertIn(b"MIN 1 MAX 5", untagged[-1])
        self.assertEqual(search_nums(c.ok("SEARCH $")), [1, 5])
        c.ok("UID SEARCH RETURN (SAVE ALL) FROM alice")
        self.assertEqual(search_nums(c.ok("UID SEARCH $")), [2, 6])
        # a failed SAVE search empties "$"
        untagged, tagged = c.run("SEARCH RETURN (SAVE) CHARSET KOI8-R ALL")
        self.assertIn("NO", tagged)

    def test_imap4rev2_esearch_default_and_modseq(self):
        c = self.connect()
        c.ok("ENABLE IMAP4rev2")
        c.ok("EXAMINE INBOX")
        untagged = c.ok("SEARCH FROM alice")
        self.assertEqual(untagged[-1].rstrip(b"\r\n").decode(),
                         f'* ESEARCH (TAG "x{c.n}") ALL 1,5')
        untagged = c.ok("SEARCH FROM nobody")
        self.assertEqual(untagged[-1].rstrip(b"\r\n").decode(), f'* ESEARCH (TAG "x{c.n}")')
        d = self.connect()
        d.ok("EXAMINE INBOX")
        untagged = d.ok("SEARCH MODSEQ 1 FROM alice")
        self.assertRegex(untagged[-1].decode(), r"^\* SEARCH 1 5 \(MODSEQ \d+\)\r\n$")
        untagged = d.ok('SEARCH MODSEQ "/flags/\\\\draft" all 1 NOT ALL')
        self.assertEqual(untagged[-1], b"* SEARCH\r\n")
        untagged = c.ok("SEARCH RETURN (COUNT) MODSEQ 1")
        self.assertRegex(untagged[-1].decode(), r'^\* ESEARCH \(TAG "x\d+"\) COUNT 5 MODSEQ \d+\r\n$')

    def test_new_messages_unknown_to_session_are_not_reported(self):
        c = self.connect()
        c.ok("SELECT INBOX")
        other = self.connect()
        self.append(other, "()", "03-Jan-2024 09:00:00 +0000", "Subject: later\r\n\r\nlater\r\n")
        untagged = c.ok("SEARCH SUBJECT later")
        # the EXISTS comes with the command's end; the match only once known
        nums = search_nums(untagged)
        self.assertIn(nums, ([], [6]))
        self.assertEqual(search_nums(c.ok("SEARCH SUBJECT later")), [6])
        # only that one goes (message 3 is \Deleted too)
        c.ok("UID STORE 7 +FLAGS (\\Deleted)")
        c.ok("UID EXPUNGE 7")

    def test_imaplib(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"], ssl_context=mk.tls_context())
        c.login("alice@example.com", "pw")
        c.select("INBOX", readonly=True)
        self.assertEqual(c.search(None, "FROM", "alice"), ("OK", [b"1 5"]))
        self.assertEqual(c.search("UTF-8", "SUBJECT", '"report"'), ("OK", [b"2"]))
        self.assertEqual(c.uid("SEARCH", "UNSEEN"), ("OK", [b"2 3 5 6"]))
        c.logout()


if __name__ == "__main__":
    unittest.main()
