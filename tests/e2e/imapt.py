"""Small raw IMAP client for the protocol tests: send a tagged command,
collect the untagged lines until its tagged reply. Literals in responses
are read whole and kept inline as bytes in the line list."""
import re
import time

import mk


class Client:
    def __init__(self, srv, user=None, password=None, svc="imaps"):
        self.c = mk.Lines(srv.connect(svc))
        self.n = 0
        greet = self.c.readline()
        assert greet.startswith("* OK"), greet
        if user is not None:
            untagged, tagged = self.cmd(f'LOGIN "{user}" "{password}"', timeout=30)
            assert " OK " in tagged, tagged

    def tag(self):
        self.n += 1
        return f"t{self.n}"

    def send(self, text):
        self.c.send(text)

    def readline(self, timeout=10):
        line = self.c.readline(timeout)
        m = re.search(r"\{(\d+)\}$", line)
        while m:
            # A literal follows: read its bytes, then the rest of the line.
            need = int(m.group(1))
            deadline = time.time() + timeout
            while len(self.c.buf) < need:
                self.c.sock.settimeout(max(0.01, deadline - time.time()))
                chunk = self.c.sock.recv(65536)
                if not chunk:
                    raise EOFError("closed inside a literal")
                self.c.buf += chunk
            lit, self.c.buf = self.c.buf[:need], self.c.buf[need:]
            rest = self.c.readline(timeout)
            line = line + "\x00" + lit.decode("utf-8", "replace") + "\x00" + rest
            m = re.search(r"\{(\d+)\}$", rest)
        return line

    def cmd(self, text, timeout=10):
        """(untagged lines, tagged line)."""
        t = self.tag()
        self.c.send(f"{t} {text}\r\n")
        return self.collect(t, timeout)

    def collect(self, t, timeout=10):
        out = []
        while True:
            line = self.readline(timeout)
            if line.startswith(t + " "):
                return out, line
            out.append(line)

    def ok(self, text, timeout=10):
        u, t = self.cmd(text, timeout)
        assert " OK" in t, f"{text!r} -> {t!r} after {u!r}"
        return u, t

    def append(self, mailbox, msg, flags="", timeout=10):
        t = self.tag()
        data = msg.encode() if isinstance(msg, str) else msg
        fl = f"({flags}) " if flags else ""
        self.c.send(f"{t} APPEND {mailbox} {fl}{{{len(data)}+}}\r\n".encode() + data + b"\r\n")
        return self.collect(t, timeout)


def msg(subject="hello", body="body\r\n", frm="bob@example.com"):
    return (f"From: {frm}\r\nTo: alice@example.com\r\nSubject: {subject}\r\n"
            f"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{subject}@x>\r\n\r\n{body}")
