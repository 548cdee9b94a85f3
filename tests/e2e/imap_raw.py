"""A small raw IMAP client for tests that check exact server bytes:
responses are read whole (literals included), and FETCH/ESEARCH data is
parsed into python values.

    c = imap_raw.Client(srv.connect("imaps"))
    c.login("alice@example.com", "pw"); c.select("INBOX")
    untagged, tagged = c.run("FETCH 1 (UID BODY.PEEK[])")
    items = imap_raw.fetch_items(untagged[0])   # {"UID": "1", "BODY[]": b"..."}
"""
import re
import time

LITERAL = re.compile(rb"~?\{(\d+)\}\r\n$")


class Client:
    def __init__(self, sock, timeout=30):
        self.sock = sock
        self.buf = b""
        self.timeout = timeout
        self.n = 0
        greeting = self.read_response()
        assert greeting.startswith(b"* OK"), greeting

    def _fill(self, deadline):
        left = deadline - time.time()
        if left <= 0:
            raise TimeoutError(f"no response in time; have {self.buf[:300]!r}")
        self.sock.settimeout(left)
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError(f"connection closed; have {self.buf[:300]!r}")
        self.buf += chunk

    def read_response(self, timeout=None):
        """One response: a line plus any literals it announces, CRLF kept."""
        deadline = time.time() + (timeout or self.timeout)
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill(deadline)
            line, _, self.buf = self.buf.partition(b"\r\n")
            out += line + b"\r\n"
            m = LITERAL.search(out)
            if not m:
                return out
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill(deadline)
            out += self.buf[:n]
            self.buf = self.buf[n:]

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def run(self, command, timeout=None):
        """Send "<tag> command"; returns (untagged responses, tagged line)."""
        self.n += 1
        tag = f"x{self.n}"
        self.send(f"{tag} {command}\r\n")
        untagged = []
        while True:
            r = self.read_response(timeout)
            if r.startswith(tag.encode() + b" "):
                return untagged, r.decode("utf-8", "replace").rstrip("\r\n")
            untagged.append(r)

    def ok(self, command, timeout=None):
        untagged, tagged = self.run(command, timeout)
        parts = tagged.split(" ", 2)
        if parts[1] != "OK":
            raise AssertionError(f"{command!r} -> {tagged}")
        return untagged

    def login(self, user, password):
        return self.ok(f'LOGIN "{user}" "{password}"', timeout=60)

    def select(self, mailbox="INBOX"):
        return self.ok(f"SELECT {mailbox}")


# --- parsing of response data --------------------------------------------

class Parser:
    """IMAP data (atoms, numbers, quoted, literals, NIL, lists) -> python:
    atoms/numbers as str, strings as bytes, NIL as None, lists as list."""

    def __init__(self, data):
        self.d = data
        self.i = 0

    def ws(self):
        while self.i < len(self.d) and self.d[self.i:self.i + 1] == b" ":
            self.i += 1

    def value(self):
        self.ws()
        c = self.d[self.i:self.i + 1]
        if c == b"(":
            self.i += 1
            out = []
            while True:
                self.ws()
                if self.d[self.i:self.i + 1] == b")":
                    self.i += 1
                    return out
                out.append(self.value())
        if c == b'"':
            self.i += 1
            s = b""
            while self.d[self.i:self.i + 1] != b'"':
                if self.d[self.i:self.i + 1] == b"\\":
                    self.i += 1
                s += self.d[self.i:self.i + 1]
                self.i += 1
            self.i += 1
            return s
        m = re.compile(rb"~?\{(\d+)\}\r\n").match(self.d, self.i)
        if m:
            n = int(m.group(1))
            self.i = m.end() + n
            return self.d[m.end():m.end() + n]
        # atom; a fetch item name keeps its [section] (spaces allowed) and <n>
        start = self.i
        depth = 0
        while self.i < len(self.d):
            ch = self.d[self.i:self.i + 1]
            if ch == b"[":
                depth += 1
            elif ch == b"]":
                depth -= 1
            elif depth == 0 and ch in (b" ", b")", b"(", b"\r"):
                break
            self.i += 1
        atom = self.d[start:self.i].decode()
        return None if atom.upper() == "NIL" else atom


def fetch_items(resp):
    """'* n FETCH (...)' -> dict item name -> value, plus '_seq'."""
    m = re.match(rb"\* (\d+) FETCH ", resp)
    assert m, resp
    p = Parser(resp)
    p.i = m.end()
    lst = p.value()
    items = {"_seq": int(m.group(1))}
    for k in range(0, len(lst), 2):
        items[lst[k].upper() if "[" not in lst[k] else lst[k]] = lst[k + 1]
    return items


def fetches(untagged):
    return [fetch_items(r) for r in untagged if re.match(rb"\* \d+ FETCH ", r)]


def raw_value(resp, item):
    """The exact bytes following 'item ' in a response up to the matching
    end of a parenthesized value (for ENVELOPE/BODYSTRUCTURE checks)."""
    i = resp.index(item.encode() + b" ") + len(item) + 1
    p = Parser(resp)
    p.i = i
    p.value()
    return resp[i:p.i].decode("utf-8", "replace")
