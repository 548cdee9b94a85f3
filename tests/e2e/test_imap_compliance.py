"""IMAP corner cases found by running Dovecot's imaptest (outside the repo)
against mailkeep, each checked against its RFC: LIST patterns that can
match nothing, sequence numbers beyond the mailbox in SEARCH, CONDSTORE
enabled while selected, ESEARCH MODSEQ with MIN/MAX, a maximal ID before
login, RECURSIVEMATCH/CHILDINFO and LSUB parents, NIL as a keyword,
comments inside addresses, and LOGOUT with updates pending."""
import unittest

import imapt
import mk


def ids(untagged, kind="SEARCH"):
    for line in untagged:
        if line.startswith(f"* {kind}"):
            return line
    raise AssertionError(f"no {kind} in {untagged}")


class ImapCompliance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        cls.users = 0
        for i in range(1, 20):
            cls.srv.add_user(f"c{i}@example.com", "pw")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def client(self):
        type(self).users += 1
        return imapt.Client(self.srv, f"c{self.users}@example.com", "pw")

    def names(self, lines, kind="LIST"):
        return sorted(l for l in lines if l.startswith(f"* {kind} "))

    def test_list_pattern_matching_nothing_is_ok(self):
        c = self.client()
        c.ok("CREATE Caf&AOk-")
        # Not modified UTF-7 ("&'"): no name can match, so OK and nothing.
        u, _ = c.ok("LIST \"\" !#$$&'+,-.0123456789:;<=>?@^_`|[}%*")
        self.assertEqual(self.names(u), [])
        # Wildcards inside a base64 run still match names as they travel.
        u, _ = c.ok('LIST "" Caf&*')
        self.assertEqual(self.names(u), ['* LIST (\\HasNoChildren) "/" "Caf&AOk-"'])
        u, _ = c.ok('LIST "" Caf&AOk-')
        self.assertEqual(len(self.names(u)), 1)
        # SELECT of such a name is still refused with a reason.
        _, t = c.cmd("SELECT &'")
        self.assertIn("NO [CANNOT]", t)

    def test_search_sequence_beyond_mailbox_matches_nothing(self):
        c = self.client()
        for i in range(3):
            c.append("INBOX", imapt.msg(f"m{i}"))
        c.ok("SELECT INBOX")
        self.assertEqual(ids(c.ok("SEARCH 1000")[0]), "* SEARCH")
        self.assertEqual(ids(c.ok("SEARCH 2:1000")[0]), "* SEARCH 2 3")
        u, _ = c.ok("SEARCH RETURN (COUNT) 1000")
        self.assertRegex(ids(u, "ESEARCH"), r'^\* ESEARCH \(TAG "t\d+"\) COUNT 0$')
        u, _ = c.ok("SEARCH RETURN (MIN) 1000")
        self.assertRegex(ids(u, "ESEARCH"), r'^\* ESEARCH \(TAG "t\d+"\)$')
        # FETCH and STORE keep answering BAD (RFC 9051 seq-number).
        _, t = c.cmd("FETCH 1000 FLAGS")
        self.assertIn(" BAD ", t)

    def test_condstore_enabled_while_selected_sends_highestmodseq(self):
        c = self.client()
        c.append("INBOX", imapt.msg("a"))
        c.ok("SELECT INBOX")
        u, _ = c.ok("FETCH 1 MODSEQ")
        self.assertRegex(u[0], r"^\* OK \[HIGHESTMODSEQ \d+\]")
        self.assertRegex(u[1], r"^\* 1 FETCH \(MODSEQ \(\d+\)\)$")
        u, _ = c.ok("FETCH 1 MODSEQ")   # only the first time
        self.assertFalse(any("HIGHESTMODSEQ" in l for l in u), u)

    def test_esearch_modseq_is_that_of_the_returned_messages(self):
        c = self.client()
        for i in range(4):
            c.append("INBOX", imapt.msg(f"m{i}"))
        c.ok("SELECT INBOX")
        c.ok("ENABLE CONDSTORE")
        modseq = {}
        for n in (1, 3, 2, 4):
            u, _ = c.ok(f"STORE {n} +FLAGS \\Seen")
            modseq[n] = int(u[-1].split("MODSEQ (")[1].split(")")[0])
        base = 'modseq "/flags/\\\\seen" all 1'
        u, _ = c.ok(f"SEARCH RETURN (MIN) 1:3 {base}")
        self.assertTrue(ids(u, "ESEARCH").endswith(f"MIN 1 MODSEQ {modseq[1]}"), u)
        u, _ = c.ok(f"SEARCH RETURN (MAX) 1:3 {base}")
        self.assertTrue(ids(u, "ESEARCH").endswith(f"MAX 3 MODSEQ {modseq[3]}"), u)
        u, _ = c.ok(f"SEARCH RETURN (MIN MAX) 2:3 {base}")
        self.assertTrue(ids(u, "ESEARCH").endswith(f"MIN 2 MAX 3 MODSEQ {modseq[2]}"), u)
        # ALL / COUNT: the highest over every match.
        u, _ = c.ok(f"SEARCH RETURN () 1:3 {base}")
        self.assertTrue(ids(u, "ESEARCH").endswith(f"ALL 1:3 MODSEQ {modseq[2]}"), u)

    def test_id_with_rfc2971_maximum_before_login(self):
        c = mk.Lines(self.srv.connect("imap"))
        c.readline()
        pairs = " ".join(f'"field{i:02d}{"x" * 23}" "{"v" * 1024}"' for i in range(30))
        self.assertTrue(c.cmd(f"a1 ID ({pairs})").startswith("* ID "))
        self.assertEqual(c.readline(), "a1 OK ID completed")
        # Other commands keep the tight pre-login line limit.
        c.send("a2 LOGIN " + "x" * 20000 + " y\r\n")
        self.assertTrue(c.readline().startswith("a2 BAD [TOOBIG]"))

    def test_recursivematch_childinfo_only_for_unlisted_children(self):
        c = self.client()
        for name in ("t2/t1", "t7/t7", "t8/t8", "t8/t9"):
            c.ok(f"CREATE {name}")
        for name in ("t2/t1", "t7/t7", "t8/t8", "t8/t9"):
            c.ok(f"SUBSCRIBE {name}")
        u, _ = c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" (t2)')
        self.assertEqual(self.names(u), ['* LIST (\\HasChildren) "/" "t2" ("CHILDINFO" ("SUBSCRIBED"))'])
        u, _ = c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" (t2 t2/t1)')
        self.assertEqual(self.names(u), ['* LIST (\\HasNoChildren \\Subscribed) "/" "t2/t1"'])
        u, _ = c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" *t7')
        self.assertEqual(self.names(u), ['* LIST (\\HasNoChildren \\Subscribed) "/" "t7/t7"'])
        u, _ = c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" *t8')
        self.assertEqual(self.names(u), ['* LIST (\\HasChildren) "/" "t8" ("CHILDINFO" ("SUBSCRIBED"))',
                                         '* LIST (\\HasNoChildren \\Subscribed) "/" "t8/t8"'])

    def test_lsub_percent_returns_unsubscribed_parent_as_noselect(self):
        c = self.client()
        for name in ("p/a", "p/b/c", "p/d/e/f"):
            c.ok(f"CREATE {name}")
        c.ok("SUBSCRIBE p/a")
        c.ok("SUBSCRIBE p/b/c")
        c.ok("SUBSCRIBE p/d/e/f")
        c.ok("SUBSCRIBE q/ghost/child")   # parents exist nowhere
        u, _ = c.ok('LSUB "" p/%')
        self.assertEqual(self.names(u, "LSUB"), ['* LSUB () "/" "p/a"', '* LSUB (\\Noselect) "/" "p/b"',
                                                 '* LSUB (\\Noselect) "/" "p/d"'])
        u, _ = c.ok('LSUB "" %')
        self.assertEqual([l for l in self.names(u, "LSUB") if l.endswith(('"p"', '"q"'))],
                         ['* LSUB (\\Noselect) "/" "p"', '* LSUB (\\Noselect) "/" "q"'])
        u, _ = c.ok('LSUB "" *c')
        self.assertEqual(self.names(u, "LSUB"), ['* LSUB () "/" "p/b/c"'])

    def test_nil_is_a_keyword(self):
        c = self.client()
        c.append("INBOX", imapt.msg("NiL", body="nil\r\n"))
        c.ok("SELECT INBOX")
        self.assertEqual(ids(c.ok("SEARCH SUBJECT NIL")[0]), "* SEARCH 1")
        self.assertEqual(ids(c.ok("SEARCH BODY nil")[0]), "* SEARCH 1")
        c.ok("STORE 1 +FLAGS NIL")
        u, _ = c.ok("FETCH 1 FLAGS")
        self.assertIn("NIL", u[-1])
        self.assertEqual(ids(c.ok("SEARCH KEYWORD NIL")[0]), "* SEARCH 1")

    def test_from_search_sees_through_comments_in_addresses(self):
        c = self.client()
        c.append("INBOX", "From: <user-from (comment)@ (comment) domain.org>\r\n"
                          "To: <user-to@domain.org>\r\nSubject: x\r\n\r\nbody\r\n")
        c.append("INBOX", "From: Real Name <user-from@domain.org>\r\nSubject: y\r\n\r\nbody\r\n")
        c.ok("SELECT INBOX")
        self.assertEqual(ids(c.ok("SEARCH FROM user-from@domain.org")[0]), "* SEARCH 1 2")
        self.assertEqual(ids(c.ok("SEARCH FROM comment")[0]), "* SEARCH 1")
        self.assertEqual(ids(c.ok('SEARCH FROM "real name"')[0]), "* SEARCH 2")

    def test_binary_append_is_stored_unchanged_or_reencoded(self):
        type(self).users += 1
        c = mk.Lines(self.srv.connect("imaps"))
        c.readline()
        self.assertTrue(c.cmd(f"b1 LOGIN c{self.users}@example.com pw", timeout=30).startswith("b1 OK"))
        # CRLF text in a ~{n} literal: stored as sent.
        ok = b"Subject: text\r\n\r\nplain line\r\n"
        c.send(b"b2 APPEND INBOX ~{%d}\r\n" % len(ok))
        self.assertTrue(c.readline().startswith("+"))
        c.send(ok + b"\r\n")
        self.assertIn("[APPENDUID", c.readline())
        # A binary part with NUL and bare LF is stored re-encoded as base64
        # (RFC 3516 4.4; test_imap_binary_append.py checks the bytes).
        bad = (b"Subject: bin\r\nContent-Transfer-Encoding: binary\r\n\r\n"
               b"\x00\x01\n\x02\r\n")
        c.send(b"b3 APPEND INBOX ~{%d}\r\n" % len(bad))
        self.assertTrue(c.readline().startswith("+"))
        c.send(bad + b"\r\n")
        self.assertTrue(c.readline().startswith("b3 OK [APPENDUID"))
        c.send("b4 SELECT INBOX\r\n")
        lines = []
        while not lines or not lines[-1].startswith("b4 "):
            lines.append(c.readline())
        self.assertIn("* 2 EXISTS", lines)
        c.send("b5 FETCH 1 BINARY.PEEK[]\r\n")
        # No NUL: a plain literal is the right form (~{n} only for NUL).
        self.assertEqual(c.readline(), "* 1 FETCH (BINARY[] {%d}" % len(ok))
        while len(c.buf) < len(ok):
            c.buf += c.sock.recv(65536)
        self.assertEqual(c.buf[:len(ok)], ok)

    def test_logout_sends_nothing_after_bye(self):
        a, b = self.client(), None
        a.append("INBOX", imapt.msg("x"))
        a.ok("SELECT INBOX")
        type(self).users -= 1
        b = self.client()
        b.ok("SELECT INBOX")
        b.ok("STORE 1 +FLAGS \\Flagged")
        u, t = a.cmd("LOGOUT")
        self.assertEqual(u, ["* BYE Logging out"])
        self.assertIn(" OK ", t)


if __name__ == "__main__":
    unittest.main()
