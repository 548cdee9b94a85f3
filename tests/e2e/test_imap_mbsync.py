"""mbsync (isync) as a real client: two-way sync of every folder with a
local Maildir, then changes on each side (new messages, flags, a new
folder, deletions) carried to the other side by the next sync."""
import glob
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import imapt
import mk


@unittest.skipUnless(shutil.which("mbsync"), "mbsync (isync) not installed")
class ImapMbsync(unittest.TestCase):
    def setUp(self):
        self.srv = mk.Server().start()
        self.srv.add_user("sync@example.com", "pw")
        self.dir = tempfile.mkdtemp(prefix="mk-mbsync-")
        self.mail = os.path.join(self.dir, "mail")
        os.makedirs(self.mail)
        self.rc = os.path.join(self.dir, "mbsyncrc")
        with open(self.rc, "w") as f:
            f.write(f"""IMAPAccount mk
Host 127.0.0.1
Port {self.srv.ports['imaps']}
User sync@example.com
Pass pw
SSLType IMAPS
CertificateFile {os.path.join(self.srv.data, 'tls', 'cert.pem')}

IMAPStore remote
Account mk

MaildirStore local
Path {self.mail}/
Inbox {self.mail}/INBOX
SubFolders Verbatim

Channel mk
Far :remote:
Near :local:
Patterns *
Create Both
Remove None
Expunge Both
SyncState *
""")

    def tearDown(self):
        self.srv.__exit__(None, None, None)
        shutil.rmtree(self.dir, ignore_errors=True)

    def sync(self):
        p = subprocess.run(["mbsync", "-c", self.rc, "mk"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr + self.srv.log()[-3000:])

    def local(self, folder):
        """{subject: maildir flags} of a local folder."""
        out = {}
        for path in glob.glob(os.path.join(self.mail, folder, "cur", "*")) + \
                glob.glob(os.path.join(self.mail, folder, "new", "*")):
            with open(path, "rb") as f:
                subj = [l for l in f.read().split(b"\n") if l.startswith(b"Subject: ")][0][9:].strip()
            name = os.path.basename(path)
            out[subj.decode()] = name.split(":2,")[1] if ":2," in name else ""
        return out

    def remote(self, c, folder):
        """{subject: flags} on the server."""
        u, _ = c.ok(f'EXAMINE "{folder}"')
        out = {}
        n = int([l for l in u if l.endswith(" EXISTS")][0].split()[1])
        if n:
            u, _ = c.ok("FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            for l in u:
                if "FETCH" in l and "Subject:" in l:
                    flags = l[l.index("FLAGS (") + 7:l.index(")")]
                    subj = l.split("Subject: ")[1].split("\r")[0].split("\x00")[0].strip()
                    out[subj] = set(flags.split())
        return out

    def test_two_way_sync(self):
        c = imapt.Client(self.srv, "sync@example.com", "pw")
        c.append("INBOX", imapt.msg("srv-one"), "\\Seen")
        c.append("INBOX", imapt.msg("srv-two"))
        c.ok("CREATE Work/Reports")
        c.append("Work/Reports", imapt.msg("report"), "\\Flagged")
        self.sync()
        self.assertEqual(self.local("INBOX"), {"srv-one": "S", "srv-two": ""})
        self.assertEqual(self.local("Work/Reports"), {"report": "F"})
        for box in ["Sent", "Drafts", "Trash", "Junk", "Archive"]:
            self.assertTrue(os.path.isdir(os.path.join(self.mail, box)), box)

        # Local changes: a new message, a flag, a new folder, a deletion.
        cur = os.path.join(self.mail, "INBOX", "cur")
        with open(os.path.join(cur, f"{int(time.time())}.local1.host:2,S"), "w") as f:
            f.write(imapt.msg("local-one"))
        two = [p for p in glob.glob(os.path.join(self.mail, "INBOX", "*", "*")) if "srv-two" in open(p).read()][0]
        os.rename(two, os.path.join(cur, os.path.basename(two).split(":2,")[0] + ":2,FS"))
        os.makedirs(os.path.join(self.mail, "Local", "cur"))
        for sub in ("new", "tmp"):
            os.makedirs(os.path.join(self.mail, "Local", sub))
        with open(os.path.join(self.mail, "Local", "cur", f"{int(time.time())}.l2.host:2,"), "w") as f:
            f.write(imapt.msg("in-local-folder"))
        rep = glob.glob(os.path.join(self.mail, "Work/Reports", "*", "*"))[0]
        os.rename(rep, rep.split(":2,")[0] + ":2,FT")   # trashed: expunged remotely
        self.sync()
        r = self.remote(c, "INBOX")
        self.assertEqual(set(r), {"srv-one", "srv-two", "local-one"})
        self.assertEqual(r["srv-two"], {"\\Flagged", "\\Seen"})
        self.assertEqual(r["local-one"], {"\\Seen"})
        self.assertEqual(self.remote(c, "Local"), {"in-local-folder": set()})
        self.assertEqual(self.remote(c, "Work/Reports"), {})

        # Server changes: flag, delete, new message.
        c.ok("SELECT INBOX")
        u, _ = c.ok("SEARCH SUBJECT srv-one")
        seq = u[0].split()[2]
        c.ok(f"STORE {seq} +FLAGS (\\Deleted)")
        c.ok("EXPUNGE")
        u, _ = c.ok("SEARCH SUBJECT local-one")
        c.ok(f"STORE {u[0].split()[2]} +FLAGS (\\Answered)")
        c.append("INBOX", imapt.msg("srv-three"))
        self.sync()
        self.assertEqual(self.local("INBOX"), {"srv-two": "FS", "local-one": "RS", "srv-three": ""})
        # and a no-change sync leaves both sides as they are
        self.sync()
        self.assertEqual(set(self.remote(c, "INBOX")), {"srv-two", "local-one", "srv-three"})


if __name__ == "__main__":
    unittest.main()
