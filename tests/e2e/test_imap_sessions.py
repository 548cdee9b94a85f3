"""Several IMAP sessions of one user against the real server: FETCH by
sequence number of a message another session expunged (answered OK
[EXPUNGEISSUED], the rest still answered), FETCH items the store's view
answers alone (UID FLAGS RFC822.SIZE MODSEQ) against the same items
read with the cached data, and \\Recent claims (one session each, kept
across re-SELECT and a restart)."""
import re
import unittest

import imapt
import mk


class ImapSessions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        for i in range(1, 10):
            cls.srv.add_user(f"s{i}@example.com", "pw")
        cls.users = 0

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def user(self):
        type(self).users += 1
        return f"s{self.users}@example.com"

    def test_fetch_of_a_message_another_session_expunged(self):
        user = self.user()
        c, d = imapt.Client(self.srv, user, "pw"), imapt.Client(self.srv, user, "pw")
        for s in "abc":
            c.append("INBOX", imapt.msg(s))
        c.ok("SELECT INBOX")
        d.ok("SELECT INBOX")
        d.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        d.ok("EXPUNGE")
        # From the view (FLAGS) and from the cached data (ENVELOPE), and a
        # body: 2 is gone; it gets no answer, the others do, and the
        # command still succeeds.
        for items in ["(FLAGS)", "(UID FLAGS RFC822.SIZE)", "(ENVELOPE)", "(BODY.PEEK[])"]:
            u, t = c.cmd(f"FETCH 1:3 {items}")
            self.assertRegex(t, r"^t\d+ OK \[EXPUNGEISSUED\] ", (items, t))
            nums = [int(l.split()[1]) for l in u if " FETCH " in l]
            self.assertEqual(nums, [1, 3], (items, u))
            self.assertFalse(any(re.match(r"^\* \d+ EXPUNGE$", l) for l in u), u)
        # UID FETCH says nothing about it; EXPUNGE may come after it.
        u, t = c.cmd("UID FETCH 1:3 (FLAGS)")
        self.assertRegex(t, r"^t\d+ OK UID FETCH")
        self.assertIn("* 2 EXPUNGE", u)
        u, t = c.ok("FETCH 1:2 (FLAGS)")
        self.assertNotIn("EXPUNGEISSUED", t)
        self.assertEqual(len([l for l in u if " FETCH " in l]), 2)

    def test_new_keyword_from_another_session_is_announced_before_fetch(self):
        # imaptest's stress mode caught FETCH showing a keyword the client
        # had never been given in FLAGS.
        user = self.user()
        c, d = imapt.Client(self.srv, user, "pw"), imapt.Client(self.srv, user, "pw")
        c.append("INBOX", imapt.msg("k"))
        for items in ["(FLAGS)", "(FLAGS ENVELOPE)"]:
            kw = "$Fresh" + str(len(items))
            c.ok("SELECT INBOX")
            d.ok("SELECT INBOX")
            d.ok(f"STORE 1 +FLAGS.SILENT ({kw})")
            u, _ = c.ok(f"FETCH 1 {items}")
            flags = [i for i, l in enumerate(u) if l.startswith("* FLAGS (")]
            fetch = [i for i, l in enumerate(u) if " FETCH " in l and kw in l]
            self.assertTrue(fetch, u)
            self.assertTrue(flags and flags[0] < fetch[0] and kw in u[flags[0]], u)

    def test_view_items_match_the_slow_path(self):
        user = self.user()
        c = imapt.Client(self.srv, user, "pw")
        for i in range(20):
            c.append("INBOX", imapt.msg(f"m{i}", body="x" * i + "\r\n"),
                     ["", "\\Seen", "\\Flagged $Work", "\\Answered \\Draft"][i % 4])
        c.ok("ENABLE CONDSTORE")
        c.ok("SELECT INBOX")
        c.ok("STORE 5:7 +FLAGS (\\Deleted $Other)")
        fast, _ = c.ok("UID FETCH 1:* (FLAGS RFC822.SIZE MODSEQ)")
        # INTERNALDATE takes the other path; the rest must read the same.
        slow, _ = c.ok("UID FETCH 1:* (FLAGS RFC822.SIZE MODSEQ INTERNALDATE)")
        strip = [re.sub(r' INTERNALDATE "[^"]*"', "", l) for l in slow]
        self.assertEqual(fast, strip)
        self.assertEqual(len(fast), 20)
        self.assertRegex(fast[6], r'^\* 7 FETCH \(UID 7 FLAGS \(\\Flagged \\Deleted \$Work \$Other'
                                  r' \\Recent\) RFC822.SIZE \d+ MODSEQ \(\d+\)\)$')
        # A set with gaps and ranges, by sequence number.
        u, _ = c.ok("FETCH 2,4:5,19:* (FLAGS)")
        self.assertEqual([int(l.split()[1]) for l in u], [2, 4, 5, 19, 20])
        # CHANGEDSINCE picks the changed ones from the view too.
        m = int(re.search(r"MODSEQ \((\d+)\)", fast[4]).group(1))
        u, _ = c.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {m - 1})")
        self.assertEqual([int(l.split()[1]) for l in u], [5, 6, 7])

    def test_recent_is_claimed_once_and_kept(self):
        user = self.user()
        c, d = imapt.Client(self.srv, user, "pw"), imapt.Client(self.srv, user, "pw")
        e = imapt.Client(self.srv, user, "pw")
        e.append("INBOX", imapt.msg("r1"))
        e.append("INBOX", imapt.msg("r2"))
        u, _ = c.ok("SELECT INBOX")
        self.assertIn("* 2 RECENT", u)
        u, _ = d.ok("SELECT INBOX")
        self.assertIn("* 0 RECENT", u)
        # A new message goes to the first session that is told of it.
        e.append("INBOX", imapt.msg("r3"))
        u, _ = c.ok("NOOP")
        self.assertEqual(u, ["* 3 EXISTS", "* 3 RECENT"])
        u, _ = d.ok("NOOP")
        self.assertEqual(u, ["* 3 EXISTS", "* 0 RECENT"])
        self.assertIn("\\Recent", c.ok("FETCH 3 (FLAGS)")[0][0])
        self.assertNotIn("\\Recent", d.ok("FETCH 3 (FLAGS)")[0][0])
        # Claimed stays claimed for a later SELECT...
        u, _ = c.ok("SELECT INBOX")
        self.assertIn("* 0 RECENT", u)
        # ...and, once a change has carried the claims into store.db,
        # after a restart too.
        c.ok("STORE 1 +FLAGS (\\Seen)")
        for x in (c, d, e):
            x.ok("LOGOUT")
        self.srv.stop()
        self.srv.start()
        f = imapt.Client(self.srv, user, "pw")
        u, _ = f.ok("SELECT INBOX")
        self.assertIn("* 3 EXISTS", u)
        self.assertIn("* 0 RECENT", u)


if __name__ == "__main__":
    unittest.main()
