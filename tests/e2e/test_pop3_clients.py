"""Real POP3 clients from Debian against the server (issue 5): fetchmail
downloads and deletes into an mbox; getmail6 leaves a copy and fetches only
new mail the next time. Both verify the server's certificate."""
import os
import poplib
import pwd
import re
import shutil
import subprocess
import tempfile
import unittest

import mk


def message(i):
    # A dot line and a "From " line exercise dot-stuffing and mbox quoting.
    return (f"From: sender{i}@example.org\r\nTo: alice@example.com\r\nSubject: note {i}\r\n"
            f"Message-ID: <n{i}@example.org>\r\n\r\nline one of {i}\r\n.dot line\r\n"
            "From the start of a line\r\n\r\nlast line\r\n").encode()


@unittest.skipUnless(shutil.which("fetchmail") and shutil.which("getmail"),
                     "fetchmail and getmail6 are installed by scripts/install-deps")
class Pop3Clients(unittest.TestCase):
    def setUp(self):
        self.srv = mk.Server().start()
        self.srv.add_user("alice@example.com", "pw")
        self.cert = os.path.join(self.srv.data, "tls", "cert.pem")
        self.dir = tempfile.mkdtemp(prefix="mk-pop3c-")

    def tearDown(self):
        self.srv.__exit__(None, None, None)
        shutil.rmtree(self.dir, ignore_errors=True)

    def deliver(self, data):
        subprocess.run([mk.BIN, "--config", self.srv.config, "deliver", "alice@example.com"],
                       input=data, check=True, capture_output=True, timeout=30)

    def stat(self):
        c = poplib.POP3_SSL("127.0.0.1", self.srv.ports["pop3s"], context=mk.tls_context())
        c.user("alice@example.com")
        c.pass_("pw")
        n = c.stat()[0]
        c.quit()
        return n

    def test_fetchmail_downloads_and_deletes_into_mbox(self):
        msgs = [message(i) for i in range(5)]
        for m in msgs:
            self.deliver(m)
        mbox = os.path.join(self.dir, "mbox")
        # mboxrd: a separator line per message, body "From " lines quoted.
        mda = os.path.join(self.dir, "mda.sh")
        with open(mda, "w") as f:
            f.write("#!/bin/sh\n{ echo 'From fetchmail Sat Jan  1 00:00:00 2000'\n"
                    "  sed -e 's/^\\(>*From \\)/>\\1/'\n  echo\n} >> \"$1\"\n")
        os.chmod(mda, 0o755)
        mda = f"{mda} {mbox}"
        rc = os.path.join(self.dir, "fetchmailrc")
        with open(rc, "w") as f:
            f.write(f'set no bouncemail\n'
                    f'poll localhost service {self.srv.ports["pop3s"]} protocol pop3\n'
                    f'  user "alice@example.com" there with password "pw" is "root" here\n'
                    f'  ssl sslcertck sslcertfile "{self.cert}"\n'
                    f'  fetchall nokeep\n  mda "{mda}"\n')
        os.chmod(rc, 0o600)
        p = subprocess.run(["fetchmail", "-f", rc, "--invisible", "--nosyslog",
                            "--pidfile", os.path.join(self.dir, "pid")],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, HOME=self.dir))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(mbox, "rb") as f:
            text = f.read()
        got = [re.sub(rb"(?m)^>(>*From )", rb"\1", part).rstrip(b"\n") + b"\n"
               for part in re.split(rb"(?m)^From fetchmail .*\n", text) if part]
        # fetchmail hands messages to the MDA with LF line ends.
        self.assertEqual(got, [m.replace(b"\r\n", b"\n") for m in msgs])
        self.assertEqual(self.stat(), 0)

    def test_getmail_leaves_a_copy_and_fetches_only_new_mail(self):
        for i in range(3):
            self.deliver(message(i))
        md = os.path.join(self.dir, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub))
        extra = ""
        if os.geteuid() == 0:  # getmail will not deliver as root
            nobody = pwd.getpwnam("nobody")
            for root, _, _ in os.walk(self.dir):
                os.chown(root, nobody.pw_uid, nobody.pw_gid)
            extra = "user = nobody\n"
        with open(os.path.join(self.dir, "getmailrc"), "w") as f:
            f.write(f"[retriever]\ntype = SimplePOP3SSLRetriever\nserver = localhost\n"
                    f"port = {self.srv.ports['pop3s']}\nusername = alice@example.com\n"
                    f"password = pw\nca_certs = {self.cert}\n\n"
                    f"[destination]\ntype = Maildir\npath = {md}/\n{extra}\n"
                    f"[options]\nread_all = false\ndelete = false\n")

        def getmail():
            p = subprocess.run(["getmail", "--getmaildir", self.dir, "--rcfile", "getmailrc"],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            return p.stdout

        out = getmail()
        self.assertIn("3 messages", out)
        self.assertEqual(len(os.listdir(os.path.join(md, "new"))), 3)
        self.deliver(message(3))
        out = getmail()
        self.assertIn("1 messages", out)
        self.assertIn("3 skipped", out)
        files = os.listdir(os.path.join(md, "new"))
        self.assertEqual(len(files), 4)
        bodies = [open(os.path.join(md, "new", n), "rb").read() for n in files]
        # getmail puts its own trace headers on top; the rest is ours.
        want = message(3).replace(b"\r\n", b"\n")
        self.assertEqual(sum(b.replace(b"\r\n", b"\n").endswith(b"\n" + want) for b in bodies), 1)
        self.assertEqual(self.stat(), 4)  # a copy was left on the server


if __name__ == "__main__":
    unittest.main()
