"""IMAP message commands against the real server: APPEND (MULTIAPPEND,
APPENDUID, dates, flags, TRYCREATE, TOOBIG, OVERQUOTA), STORE (CONDSTORE
UNCHANGEDSINCE/MODIFIED, .SILENT), COPY/MOVE (COPYUID, TRYCREATE), EXPUNGE
and UID EXPUNGE (EXPUNGE or VANISHED), the RFC 9051 7.5.1 rule, QUOTA."""
import re
import unittest

import imapt
import mk


class ImapMessages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(max_message_size="64K").start()
        cls.users = 0
        for i in range(1, 30):
            cls.srv.add_user(f"m{i}@example.com", "pw")
        cls.srv.cli("quota", "set", "m29@example.com", "4K", "--messages", "3")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def client(self, n=None):
        if n is None:
            type(self).users += 1
            n = self.users
        return imapt.Client(self.srv, f"m{n}@example.com", "pw")

    def flags(self, c, seqset="1:*"):
        u, _ = c.ok(f"FETCH {seqset} (FLAGS)")
        return [l for l in u if "FETCH" in l]

    def test_append_variants(self):
        c = self.client()
        u, t = c.append("INBOX", imapt.msg("a"), "\\Seen $Label1")
        uv, uid = re.search(r"\[APPENDUID (\d+) (\d+)\]", t).groups()
        self.assertEqual(uid, "1")
        u, t = c.append("INBOX", imapt.msg("b"), '\\Flagged) "05-Feb-2020 10:11:12 +0100" (\\Bogus')
        self.assertIn("BAD", t)
        # date-time without flags, then flags with a date
        d = imapt.msg("d").encode()
        tag = c.tag()
        c.send(f'{tag} APPEND INBOX "05-Feb-2020 10:11:12 +0100" {{{len(d)}+}}\r\n'.encode() + d + b"\r\n")
        self.assertIn("APPENDUID", c.collect(tag)[1])
        self.assertIn("NO [TRYCREATE]", c.append("Nope", imapt.msg("x"))[1])
        self.assertIn("BAD", c.append("INBOX", imapt.msg("x"), "\\Nonsense")[1])
        # synchronizing literal: "+" then the data
        tag = c.tag()
        m = imapt.msg("sync").encode()
        c.send(f"{tag} APPEND INBOX (\\Draft) {{{len(m)}}}\r\n")
        self.assertTrue(c.readline().startswith("+ "))
        c.send(m + b"\r\n")
        self.assertIn("APPENDUID", c.collect(tag)[1])
        # a refused synchronizing literal: NO at once, nothing more sent
        tag = c.tag()
        c.send(f"{tag} APPEND Nope {{10}}\r\n")
        self.assertIn(f"{tag} NO [TRYCREATE]", c.readline())
        c.ok("SELECT INBOX")
        got = self.flags(c)
        self.assertIn("\\Seen $Label1", got[0])
        self.assertIn("\\Draft", got[2])
        c.ok("NOOP")

    def test_append_utf8_data_item(self):
        c = self.client()
        m = imapt.msg("Grüße").encode()
        tag = c.tag()
        c.send(f"{tag} APPEND INBOX UTF8 (~{{{len(m)}+}}\r\n".encode() + m + b")\r\n")
        self.assertIn("BAD", c.collect(tag)[1])     # not enabled
        c.ok("ENABLE UTF8=ACCEPT")
        tag = c.tag()
        c.send(f"{tag} APPEND INBOX (\\Seen) UTF8 (~{{{len(m)}+}}\r\n".encode() + m + b")\r\n")
        self.assertRegex(c.collect(tag)[1], r"OK \[APPENDUID \d+ 1\]")
        big = imapt.msg("big", body="y" * 60000 + "\r\n").encode()
        tag = c.tag()
        c.send(f"{tag} APPEND INBOX {{{len(big)}}}\r\n")
        self.assertTrue(c.readline().startswith("+ "))
        c.send(big + b"\r\n")
        self.assertIn("APPENDUID", c.collect(tag)[1])
        u, _ = c.ok("STATUS INBOX (MESSAGES SIZE)")
        self.assertEqual(u[0], f'* STATUS "INBOX" (MESSAGES 2 SIZE {len(m) + len(big)})')

    def test_multiappend_is_atomic(self):
        c = self.client()
        m1, m2 = imapt.msg("m1").encode(), imapt.msg("m2").encode()
        tag = c.tag()
        c.send(f"{tag} APPEND INBOX (\\Seen) {{{len(m1)}+}}\r\n".encode() + m1 +
               f" (\\Flagged) {{{len(m2)}+}}\r\n".encode() + m2 + b"\r\n")
        t = c.collect(tag)[1]
        self.assertRegex(t, r"OK \[APPENDUID \d+ 1:2\]")
        # second message too big: nothing of the command is saved
        big = b"X" * (70 * 1024)
        tag = c.tag()
        c.send(f"{tag} APPEND INBOX {{{len(m1)}+}}\r\n".encode() + m1 + f" {{{len(big)}}}\r\n".encode())
        t = c.readline()
        self.assertIn("NO [TOOBIG]", t)
        self.assertEqual(c.ok("STATUS INBOX (MESSAGES)")[0], ['* STATUS "INBOX" (MESSAGES 2)'])

    def test_store_flags_silent_and_keywords(self):
        c = self.client()
        for s in "abc":
            c.append("INBOX", imapt.msg(s))
        c.ok("SELECT INBOX")
        u, _ = c.ok("STORE 1:2 +FLAGS (\\Seen $Work)")
        self.assertEqual(u[0], "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)")
        self.assertIn("* 1 FETCH (FLAGS (\\Seen $Work \\Recent))", u)
        u, _ = c.ok("STORE 1 -FLAGS.SILENT ($Work)")
        self.assertEqual(u, [])
        u, _ = c.ok("UID STORE 3 FLAGS (\\Answered)")
        self.assertEqual(u, ["* 3 FETCH (UID 3 FLAGS (\\Answered \\Recent))"])
        self.assertIn("BAD", c.cmd("STORE 9 +FLAGS (\\Seen)")[1])
        self.assertIn("BAD", c.cmd("STORE 1 +FLAGS (\\Bogus)")[1])
        self.assertIn("BAD", c.cmd("STORE 1 BOGUS (\\Seen)")[1])
        c.ok("EXAMINE INBOX")
        self.assertIn("NO", c.cmd("STORE 1 +FLAGS (\\Seen)")[1])

    def test_condstore_unchangedsince(self):
        c = self.client()
        for s in "ab":
            c.append("INBOX", imapt.msg(s))
        c.ok("ENABLE CONDSTORE")
        c.ok("SELECT INBOX")
        u, _ = c.ok("STORE 1 +FLAGS (\\Seen)")
        modseq = int(re.search(r"MODSEQ \((\d+)\)", u[0]).group(1))
        u, t = c.ok(f"STORE 1:2 (UNCHANGEDSINCE {modseq - 1}) +FLAGS (\\Flagged)")
        self.assertIn("[MODIFIED 1]", t)
        self.assertEqual(len(u), 1)
        self.assertRegex(u[0], r"^\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)$")
        u, t = c.ok(f"UID STORE 1 (UNCHANGEDSINCE {modseq}) +FLAGS.SILENT (\\Answered)")
        self.assertRegex(u[0], r"^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$")

    def test_copy_move_expunge(self):
        c = self.client()
        for s in "abcd":
            c.append("INBOX", imapt.msg(s))
        c.ok("SELECT INBOX")
        u, t = c.ok("COPY 1:2 Archive")
        self.assertRegex(t, r"OK \[COPYUID \d+ 1:2 1:2\]")
        self.assertIn("NO [TRYCREATE]", c.cmd("COPY 1 Nope")[1])
        self.assertIn("BAD", c.cmd("COPY 7 Archive")[1])
        u, t = c.ok("MOVE 2 Trash")
        self.assertRegex(u[0], r"^\* OK \[COPYUID \d+ 2 1\]")
        self.assertEqual(u[1], "* 2 EXPUNGE")
        u, t = c.ok("UID MOVE 4 Trash")
        self.assertEqual(u[1], "* 3 EXPUNGE")
        c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        u, t = c.ok("EXPUNGE")
        self.assertEqual(u, ["* 1 EXPUNGE"])
        self.assertEqual(c.ok("STATUS Trash (MESSAGES)")[0], ['* STATUS "Trash" (MESSAGES 2)'])
        # UID EXPUNGE only expunges \Deleted messages inside the set
        c.ok("SELECT Archive")
        c.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        u, t = c.ok("UID EXPUNGE 2")
        self.assertEqual(u, ["* 2 EXPUNGE"])
        # with QRESYNC: VANISHED instead of EXPUNGE
        c.ok("ENABLE QRESYNC")
        u, t = c.ok("EXPUNGE")
        self.assertEqual(u, ["* VANISHED 1"])
        c.ok("EXAMINE Trash")
        self.assertIn("NO", c.cmd("EXPUNGE")[1])
        self.assertIn("NO", c.cmd("MOVE 1 INBOX")[1])

    def test_no_expunge_during_fetch_store_search_by_seq(self):
        c = self.client()
        d = self.client(self.users)   # same user, second session
        for s in "abc":
            c.append("INBOX", imapt.msg(s))
        c.ok("SELECT INBOX")
        d.ok("SELECT INBOX")
        d.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        d.ok("EXPUNGE")
        for cmd in ["FETCH 1:* (FLAGS)", "STORE 3 +FLAGS (\\Seen)", "SEARCH ALL", "COPY 1 Trash"]:
            u, t = c.cmd(cmd)
            # FETCH of the expunged message says so, and succeeds (RFC 9051 7.1)
            self.assertIn(" OK ", t, (cmd, t))
            if cmd.startswith("FETCH"):
                self.assertIn(" OK [EXPUNGEISSUED] ", t)
            self.assertFalse(any("EXPUNGE" in l for l in u), (cmd, u))
        # the client still numbers 3 messages: 3 is the last one
        u, _ = c.ok("STORE 3 +FLAGS (\\Flagged)")
        self.assertTrue(any(l.startswith("* 3 FETCH") for l in u), u)
        u, _ = c.ok("NOOP")
        self.assertEqual(u, ["* 2 EXPUNGE"])
        u, _ = c.ok("FETCH 2 (FLAGS)")
        self.assertIn("\\Flagged", u[0])

    def test_quota_and_overquota(self):
        c = self.client(29)
        u, t = c.ok("GETQUOTAROOT INBOX")
        self.assertEqual(u[0], '* QUOTAROOT "INBOX" ""')
        self.assertEqual(u[1], '* QUOTA "" (STORAGE 0 4 MESSAGE 0 3)')
        self.assertEqual(c.ok('GETQUOTA ""')[0], ['* QUOTA "" (STORAGE 0 4 MESSAGE 0 3)'])
        self.assertIn("NO", c.cmd("GETQUOTA other")[1])
        self.assertIn("NO [NOPERM]", c.cmd('SETQUOTA "" (STORAGE 100)')[1])
        self.assertIn("NO [NONEXISTENT]", c.cmd("GETQUOTAROOT Nope")[1])
        c.append("INBOX", imapt.msg("1"))
        c.append("INBOX", imapt.msg("2"))
        self.assertIn("NO [OVERQUOTA]", c.append("INBOX", imapt.msg("3", body="x" * 4000))[1])
        c.append("INBOX", imapt.msg("3"))
        self.assertIn("NO [OVERQUOTA]", c.append("INBOX", imapt.msg("4"))[1])
        c.ok("SELECT INBOX")
        self.assertIn("NO [OVERQUOTA]", c.cmd("COPY 1 Trash")[1])
        u, _ = c.ok('GETQUOTA ""')
        self.assertRegex(u[0], r'^\* QUOTA "" \(STORAGE 1 4 MESSAGE 3 3\)$')


if __name__ == "__main__":
    unittest.main()
