"""IMAP mailbox commands against the real server: SELECT/EXAMINE (incl.
CONDSTORE/QRESYNC parameters), CLOSE, UNSELECT, LIST (LIST-EXTENDED,
LIST-STATUS, SPECIAL-USE), LSUB, NAMESPACE, CREATE, DELETE, RENAME,
SUBSCRIBE, STATUS, ENABLE, and mailbox name encodings."""
import imaplib
import unittest

import imapt
import mk


class ImapMailbox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        cls.users = 0
        for i in range(1, 30):
            cls.srv.add_user(f"u{i}@example.com", "pw")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def client(self):
        """A fresh user per test, so tests do not see each other's folders."""
        type(self).users += 1
        user = f"u{self.users}@example.com"
        return imapt.Client(self.srv, user, "pw")

    def names(self, lines, kind="LIST"):
        out = {}
        for l in lines:
            if l.startswith(f"* {kind} "):
                attrs = l[len(kind) + 4:l.index(")")]
                name = l.rsplit(' "/" ', 1)[1]
                out[name.strip('"')] = attrs.split()
        return out

    def test_select_examine_responses(self):
        c = self.client()
        u, t = c.ok("SELECT INBOX")
        self.assertIn("OK [READ-WRITE]", t)
        for want in ["* FLAGS (", "* 0 EXISTS", "* 0 RECENT", "[UIDVALIDITY ", "[UIDNEXT 1]",
                     "[HIGHESTMODSEQ ", "[PERMANENTFLAGS ("]:
            self.assertTrue(any(want in l for l in u), (want, u))
        self.assertIn("\\*)]", [l for l in u if "PERMANENTFLAGS" in l][0])
        u, t = c.ok("EXAMINE Sent")
        self.assertIn("OK [READ-ONLY]", t)
        self.assertEqual(u[0], "* OK [CLOSED] Previous mailbox closed")
        self.assertIn("* OK [PERMANENTFLAGS ()] Read-only mailbox", u)
        # a failing SELECT leaves nothing selected
        u, t = c.cmd("SELECT Nope")
        self.assertIn("NO [NONEXISTENT]", t)
        self.assertIn("BAD", c.cmd("CLOSE")[1])
        u, t = c.cmd('SELECT "a&"')
        self.assertIn("NO [CANNOT]", t)
        self.assertIn("BAD", c.cmd("SELECT INBOX (BOGUS)")[1])
        self.assertIn("BAD", c.cmd("SELECT INBOX (QRESYNC (1 1))")[1])   # not enabled

    def test_rev2_select_has_no_recent_and_a_list_line(self):
        c = self.client()
        c.ok("ENABLE IMAP4rev2")
        u, t = c.ok("SELECT inbox")
        self.assertFalse(any("RECENT" in l for l in u), u)
        self.assertIn('* LIST () "/" "INBOX"', u)
        self.assertIn("BAD", c.cmd('LSUB "" *')[1])

    def test_close_expunges_silently_unselect_does_not(self):
        c = self.client()
        c.ok("SELECT INBOX")
        c.append("INBOX", imapt.msg("a"), "\\Deleted")
        c.append("INBOX", imapt.msg("b"))
        u, t = c.ok("UNSELECT")
        self.assertEqual(c.ok("STATUS INBOX (MESSAGES)")[0], ['* STATUS "INBOX" (MESSAGES 2)'])
        c.ok("EXAMINE INBOX")
        c.ok("CLOSE")           # read-only: nothing expunged
        self.assertEqual(c.ok("STATUS INBOX (MESSAGES)")[0], ['* STATUS "INBOX" (MESSAGES 2)'])
        c.ok("SELECT INBOX")
        u, t = c.ok("CLOSE")
        self.assertFalse(any("EXPUNGE" in l for l in u), u)
        self.assertEqual(c.ok("STATUS INBOX (MESSAGES)")[0], ['* STATUS "INBOX" (MESSAGES 1)'])

    def test_condstore_and_qresync_select(self):
        c = self.client()
        c.ok("SELECT INBOX")
        for s in "abc":
            c.append("INBOX", imapt.msg(s))
        u, _ = c.ok("SELECT INBOX (CONDSTORE)")
        hms = int([l for l in u if "HIGHESTMODSEQ" in l][0].split()[3].rstrip("]"))
        uv = int([l for l in u if "UIDVALIDITY" in l][0].split()[3].rstrip("]"))
        c.ok("STORE 2 +FLAGS (\\Seen)")
        c.ok("STORE 3 +FLAGS (\\Deleted)")
        c.ok("EXPUNGE")
        c.ok("UNSELECT")
        c.ok("ENABLE QRESYNC")
        u, t = c.ok(f"SELECT INBOX (QRESYNC ({uv} {hms} 1:10))")
        self.assertIn("* VANISHED (EARLIER) 3", u)
        fetches = [l for l in u if "FETCH" in l]
        self.assertEqual(len(fetches), 1, u)
        self.assertRegex(fetches[0], r"^\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$")
        # wrong UIDVALIDITY: plain select, no VANISHED
        u, t = c.ok(f"SELECT INBOX (QRESYNC ({uv + 1} 1))")
        self.assertFalse(any("VANISHED" in l for l in u), u)

    def test_list_basics_and_delimiter(self):
        c = self.client()
        self.assertEqual(c.ok('LIST "" ""')[0], ['* LIST (\\Noselect) "/" ""'])
        c.ok("CREATE Work/Projects/2026")
        n = self.names(c.ok('LIST "" *')[0])
        for name in ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive", "Work", "Work/Projects",
                     "Work/Projects/2026"]:
            self.assertIn(name, n)
        self.assertIn("\\Sent", n["Sent"])
        self.assertIn("\\HasChildren", n["Work"])
        self.assertIn("\\HasNoChildren", n["Work/Projects/2026"])
        self.assertEqual(set(self.names(c.ok('LIST "" %')[0])) & {"Work/Projects"}, set())
        self.assertEqual(set(self.names(c.ok('LIST "" Work/%')[0])), {"Work/Projects"})
        self.assertEqual(set(self.names(c.ok('LIST Work/ %')[0])), {"Work/Projects"})
        self.assertEqual(set(self.names(c.ok('LIST "" inBox')[0])), {"INBOX"})
        self.assertEqual(set(self.names(c.ok('LIST "" (Sent Trash)')[0])), {"Sent", "Trash"})
        self.assertEqual(set(self.names(c.ok('LIST (SPECIAL-USE) "" *')[0])),
                         {"Sent", "Drafts", "Trash", "Junk", "Archive"})
        self.assertIn("BAD", c.cmd('LIST (RECURSIVEMATCH) "" *')[1])
        self.assertIn("BAD", c.cmd('LIST "" * RETURN (BOGUS)')[1])

    def test_list_subscribed_recursivematch_status(self):
        c = self.client()
        c.ok("CREATE a/b/c")
        c.ok("SUBSCRIBE a/b/c")
        c.ok("SUBSCRIBE ghost")
        n = self.names(c.ok('LIST (SUBSCRIBED) "" *')[0])
        self.assertIn("\\Subscribed", n["a/b/c"])
        self.assertEqual(n["ghost"], ["\\NonExistent", "\\Subscribed"])
        self.assertNotIn("a", n)
        u, _ = c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" %')
        self.assertIn('* LIST (\\HasChildren) "/" "a" ("CHILDINFO" ("SUBSCRIBED"))', u)
        self.assertNotIn("ghost", self.names(c.ok('LIST "" *')[0]))
        lsub = self.names(c.ok('LSUB "" *')[0], "LSUB")
        self.assertIn("a/b/c", lsub)
        c.ok("UNSUBSCRIBE ghost")
        self.assertNotIn("ghost", self.names(c.ok('LIST (SUBSCRIBED) "" *')[0]))
        c.append("a/b/c", imapt.msg("x"))
        u, _ = c.ok('LIST "" a/* RETURN (STATUS (MESSAGES UNSEEN SIZE) SUBSCRIBED CHILDREN)')
        i = u.index('* LIST (\\HasNoChildren \\Subscribed) "/" "a/b/c"')
        self.assertRegex(u[i + 1], r'^\* STATUS "a/b/c" \(MESSAGES 1 UNSEEN 1 SIZE \d+\)$')

    def test_create_delete_rename_errors(self):
        c = self.client()
        self.assertIn("NO [ALREADYEXISTS]", c.cmd("CREATE INBOX")[1])
        c.ok("CREATE x/")
        self.assertIn("x", self.names(c.ok('LIST "" x')[0]))
        self.assertIn("NO [ALREADYEXISTS]", c.cmd("CREATE x")[1])
        self.assertIn("NO [CANNOT]", c.cmd('CREATE "a//b"')[1])
        self.assertIn("NO [CANNOT]", c.cmd('CREATE "a*"')[1])
        self.assertIn("NO [CANNOT]", c.cmd("DELETE INBOX")[1])
        self.assertIn("NO [NONEXISTENT]", c.cmd("DELETE nope")[1])
        self.assertIn("NO [NONEXISTENT]", c.cmd("RENAME nope other")[1])
        self.assertIn("NO [ALREADYEXISTS]", c.cmd("RENAME x Sent")[1])
        c.ok("CREATE Mine (USE (\\Flagged))")
        self.assertIn("\\Flagged", self.names(c.ok('LIST "" Mine')[0])["Mine"])
        self.assertIn("NO [USEATTR]", c.cmd("CREATE Other (USE (\\Bogus))")[1])
        c.ok("CREATE p/q")
        c.ok("DELETE p")          # has children: becomes \Noselect
        self.assertIn("\\Noselect", self.names(c.ok('LIST "" p')[0])["p"])
        self.assertIn("NO", c.cmd("SELECT p")[1])
        c.ok("RENAME p/q r")
        self.assertIn("r", self.names(c.ok('LIST "" *')[0]))

    def test_rename_inbox_moves_messages(self):
        c = self.client()
        c.append("INBOX", imapt.msg("in"))
        c.ok("RENAME INBOX Old")
        self.assertEqual(c.ok("STATUS INBOX (MESSAGES)")[0], ['* STATUS "INBOX" (MESSAGES 0)'])
        self.assertEqual(c.ok("STATUS Old (MESSAGES)")[0], ['* STATUS "Old" (MESSAGES 1)'])

    def test_status_items(self):
        c = self.client()
        c.append("INBOX", imapt.msg("a"), "\\Deleted \\Seen")
        c.append("INBOX", imapt.msg("b"))
        u, t = c.ok("STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT DELETED SIZE HIGHESTMODSEQ APPENDLIMIT)")
        self.assertRegex(u[0], r'^\* STATUS "INBOX" \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 1 '
                               r'RECENT 2 DELETED 1 SIZE \d+ HIGHESTMODSEQ \d+ APPENDLIMIT \d+\)$')
        self.assertIn("BAD", c.cmd("STATUS INBOX (BOGUS)")[1])
        self.assertIn("NO [NONEXISTENT]", c.cmd("STATUS nope (MESSAGES)")[1])
        c.ok("ENABLE IMAP4rev2")
        self.assertIn("BAD", c.cmd("STATUS INBOX (RECENT)")[1])

    def test_namespace_enable_capability(self):
        c = self.client()
        self.assertEqual(c.ok("NAMESPACE")[0], ['* NAMESPACE (("" "/")) NIL NIL'])
        self.assertEqual(c.ok("ENABLE QRESYNC")[0], ["* ENABLED QRESYNC"])
        self.assertEqual(c.ok("ENABLE CONDSTORE X-UNKNOWN")[0], ["* ENABLED"])
        caps = c.ok("CAPABILITY")[0][0].split()
        for cap in ["IMAP4rev2", "IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT", "CHILDREN",
                    "LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "CREATE-SPECIAL-USE", "CONDSTORE",
                    "QRESYNC", "QUOTA", "MULTIAPPEND", "UTF8=ACCEPT", "STATUS=SIZE"]:
            self.assertIn(cap, caps)
        self.assertTrue(any(x.startswith("APPENDLIMIT=") for x in caps))

    def test_modified_utf7_and_utf8_names(self):
        c = self.client()
        c.ok('CREATE "Sm&APY-rg&AOU-s/&ZeVnLIqe-"')
        n = self.names(c.ok('LIST "" Sm*')[0])
        self.assertIn("Sm&APY-rg&AOU-s/&ZeVnLIqe-", n)
        self.assertIn("NO [CANNOT]", c.cmd('CREATE "&AGE-"')[1])     # non-canonical
        self.assertIn("NO [CANNOT]", c.cmd('CREATE "x&Jjo"')[1])     # unterminated
        c.ok("ENABLE UTF8=ACCEPT")
        n = self.names(c.ok('LIST "" Sm*')[0])
        self.assertIn("Smörgås/日本語", n)
        c.ok('CREATE "Ünïcode & co"')
        c.ok('SELECT "Smörgås/日本語"')
        # an IMAP4rev1 client sees the same name in modified UTF-7
        d = imapt.Client(self.srv, f"u{self.users}@example.com", "pw")
        n = self.names(d.ok('LIST "" *')[0])
        self.assertIn("&ANw-n&AO8-code &- co", n)
        d.ok('SELECT "&ANw-n&AO8-code &- co"')

    def test_imaplib_roundtrip(self):
        type(self).users += 1
        user = f"u{self.users}@example.com"
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"], ssl_context=mk.tls_context())
        m.login(user, "pw")
        self.assertEqual(m.create("Reports")[0], "OK")
        typ, data = m.list()
        self.assertEqual(typ, "OK")
        self.assertTrue(any(b'"Reports"' in d for d in data))
        typ, data = m.select("Reports")
        self.assertEqual((typ, data), ("OK", [b"0"]))
        self.assertEqual(m.close()[0], "OK")
        self.assertEqual(m.delete("Reports")[0], "OK")
        m.logout()


if __name__ == "__main__":
    unittest.main()
