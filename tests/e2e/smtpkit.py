"""Helpers for the SMTP/LMTP end-to-end tests.

IMAP mailbox access is not built yet, so delivered messages are read back
from the store itself: <data>/users/<id>/store.db (SQLite) for the mailbox
rows and the bytes of small messages (table blob_data), and
<data>/users/<id>/blobs/ab/<hash> for the bytes of large ones.
"""
import os
import socket
import sqlite3
import time

import mk


def user_id(srv, address):
    db = sqlite3.connect(os.path.join(srv.data, "accounts.db"), timeout=10)
    try:
        row = db.execute("SELECT id FROM accounts WHERE address = ?", (address,)).fetchone()
        return row[0] if row else None
    finally:
        db.close()


def messages(srv, address, mailbox="INBOX"):
    """The messages of a mailbox, in UID order, as bytes."""
    uid = user_id(srv, address)
    path = os.path.join(srv.data, "users", str(uid), "store.db")
    if uid is None or not os.path.exists(path):
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = db.execute(
            "SELECT b.hash, d.data FROM message m JOIN mailbox x ON x.id = m.mailbox_id"
            " JOIN blob b ON b.id = m.blob_id LEFT JOIN blob_data d ON d.id = b.id"
            " WHERE x.name = ? ORDER BY m.uid",
            (mailbox,)).fetchall()
    finally:
        db.close()
    out = []
    for (h, data) in rows:
        if data is not None:
            out.append(bytes(data))
            continue
        with open(os.path.join(srv.data, "users", str(uid), "blobs", h[:2], h), "rb") as f:
            out.append(f.read())
    return out


def split_received(msg):
    """(the Received field, the rest) of a delivered message."""
    assert msg.startswith(b"Received: "), msg[:80]
    i = 0
    while True:
        j = msg.index(b"\r\n", i)
        if msg[j + 2:j + 3] not in (b" ", b"\t"):
            return msg[:j + 2], msg[j + 2:]
        i = j + 2


def spool_files(srv):
    d = os.path.join(srv.data, "spool")
    return os.listdir(d) if os.path.isdir(d) else []


class Raw:
    """A raw SMTP conversation: send bytes, read replies (multi-line aware)."""

    def __init__(self, srv, svc):
        self.lines = mk.Lines(srv.connect(svc))
        self.greeting = self.reply()

    def send(self, data):
        self.lines.send(data)

    def reply(self, timeout=10):
        """One reply: (code, [text lines])."""
        texts = []
        while True:
            line = self.lines.readline(timeout)
            texts.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), texts

    def cmd(self, text, timeout=10):
        self.send(text + "\r\n")
        return self.reply(timeout)

    def code(self, text):
        return self.cmd(text)[0]

    def close(self):
        try:
            self.lines.sock.close()
        except OSError:
            pass


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()
