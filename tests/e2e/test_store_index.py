"""The search index against the real server: messages delivered over LMTP
are indexed in the background (index.db catches up with no search asking
for it), a search right after a burst finds every message, and expunged
messages are never found and leave the index once the server is quiet."""
import os
import smtplib
import sqlite3
import time
import unittest

import imap_raw
import mk
import smtpkit
from test_imap_search import search_nums

USER = "ivy@example.com"


def index_state(srv):
    """(blobs in store.db, highest blob id, index 'upto', rows in the index)"""
    d = os.path.join(srv.data, "users", str(smtpkit.user_id(srv, USER)))
    db = sqlite3.connect(f"file:{d}/store.db?mode=ro", uri=True, timeout=10)
    try:
        db.execute(f"ATTACH 'file:{d}/index.db?mode=ro' AS ix")
        return db.execute(
            "SELECT (SELECT count(*) FROM blob), (SELECT ifnull(max(id), 0) FROM blob),"
            " (SELECT value FROM ix.meta WHERE key = 'upto'),"
            " (SELECT count(*) FROM ix.fts_docsize)").fetchone()
    finally:
        db.close()


def deliver(srv, words):
    lmtp = smtplib.LMTP("127.0.0.1", srv.ports["lmtp"], timeout=30)
    try:
        for w in words:
            msg = (f"From: a@example.org\r\nTo: {USER}\r\nSubject: note {w}\r\n\r\n"
                   f"common text and the word {w}\r\n")
            lmtp.sendmail("a@example.org", [USER], msg.encode())
    finally:
        lmtp.quit()


class StoreIndex(unittest.TestCase):
    def setUp(self):
        self.srv = mk.Server()
        self.srv.add_user(USER, "pw")
        self.srv.start()

    def tearDown(self):
        self.srv.__exit__(None, None, None)

    def imap(self):
        c = imap_raw.Client(self.srv.connect("imaps"))
        c.login(USER, "pw")
        return c

    def test_indexed_in_background_and_forgotten_after_expunge(self):
        deliver(self.srv, [f"bgword{i:03d}" for i in range(300)])
        deadline = time.time() + 30
        while True:
            blobs, top, upto, rows = index_state(self.srv)
            if upto >= top or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual((blobs, rows), (300, 300))
        self.assertGreaterEqual(upto, top)
        c = self.imap()
        c.ok("SELECT INBOX")
        c.ok("STORE 1:150 +FLAGS.SILENT (\\Deleted)")
        c.ok("EXPUNGE")
        # Their rows leave the index when the server is quiet; until then
        # a search must not find them either.
        self.assertEqual(search_nums(c.ok("SEARCH BODY bgword000")), [])
        self.assertEqual(len(search_nums(c.ok("SEARCH BODY common"))), 150)
        deadline = time.time() + 30
        while index_state(self.srv)[3] != 150 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(index_state(self.srv)[3], 150)
        self.assertEqual(len(search_nums(c.ok("SEARCH BODY common"))), 150)
        self.assertEqual(search_nums(c.ok("SEARCH BODY bgword000")), [])
        self.assertEqual(search_nums(c.ok("SEARCH BODY bgword299")), [150])

    def test_search_right_after_a_burst_misses_nothing(self):
        c = self.imap()
        c.ok("SELECT INBOX")
        deliver(self.srv, [f"burst{i:03d}" for i in range(400)])
        c.ok("NOOP")
        self.assertEqual(len(search_nums(c.ok("SEARCH BODY common"))), 400)
        self.assertEqual(search_nums(c.ok("SEARCH SUBJECT burst399")), [400])
        self.assertEqual(search_nums(c.ok("SEARCH TEXT burst123")), [124])


if __name__ == "__main__":
    unittest.main()
