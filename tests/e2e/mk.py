"""Harness for end-to-end tests: a real `mailkeep serve` on loopback.

    with mk.Server() as srv:            # temp data dir, free ports, own config
        srv.add_user("alice@example.com", "secret")
        s = srv.connect("pop3s")         # TLS socket (no cert check)
        ...

The server runs as a child process, is waited for until every listener
accepts, and is stopped by its pid (SIGTERM, then SIGKILL after 10 s).
Everything is bounded in time; nothing leaves loopback.
"""
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

BIN = os.environ.get("MAILKEEP_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "debug", "mailkeep")

# Built with AddressSanitizer: freed memory sits in its quarantine, so
# memory-growth bounds measure ASan, not mailkeep (checked in other builds).
ASAN = "asan" in os.path.basename(os.environ.get("MAILKEEP_BUILD", "").rstrip("/"))

SERVICES = ["imap", "imaps", "pop3", "pop3s", "submission", "submissions", "smtp", "lmtp"]
IMPLICIT_TLS = {"imaps", "pop3s", "submissions"}


_handed_out = set()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = map(int, f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A port for a listener, below the kernel's ephemeral range: the tests'
    own client connections take ephemeral ports, and one of them could grab
    a port between this check and the server's bind. Never the same port
    twice in one process."""
    lo, _ = _ephemeral_range()
    top = max(lo, 12000)
    while True:
        port = random.randrange(10000, top)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Server:
    def __init__(self, services=None, tmp=None, nofile=None, **settings):
        # nofile: the server's open-files limit (soft and hard), for tests
        # of what it does at that limit.
        self.nofile = nofile
        self.tmp = tmp or tempfile.mkdtemp(prefix="mk-e2e-")
        self.own_tmp = tmp is None
        self.data = os.path.join(self.tmp, "data")
        self.config = os.path.join(self.tmp, "mailkeep.conf")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.ports = {}
        self.proc = None
        self.services = services if services is not None else self.available_services()
        lines = [
            f"data_dir = {self.data}",
            "hostname = mail.test",
            "workers = 2",
            "log_level = debug",
            "shutdown_timeout = 5s",
            "user =",
        ]
        for svc in SERVICES:
            if svc in self.services:
                self.ports[svc] = free_port()
                lines.append(f"{svc}_listen = 127.0.0.1:{self.ports[svc]}")
            else:
                lines.append(f"{svc}_listen =")
        for k, v in settings.items():
            lines.append(f"{k} = {v}")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    @staticmethod
    def available_services():
        # Services whose protocol the build serves (grows as protocols land).
        out = os.environ.get("MAILKEEP_SERVICES")
        return out.split(",") if out else ["imap", "imaps", "pop3", "pop3s", "submission", "submissions", "smtp", "lmtp"]

    # --- process ---
    def start(self, timeout=15):
        self.logf = open(self.log_path, "ab")
        limit = None
        if self.nofile is not None:
            import resource
            n = self.nofile
            limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
        self.proc = subprocess.Popen([BIN, "--config", self.config, "serve"],
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=limit)
        deadline = time.time() + timeout
        pending = set(self.ports)
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            if time.time() > deadline:
                self.kill()
                raise RuntimeError(f"server did not listen on {pending} in {timeout}s:\n{self.log()}")
            for svc in list(pending):
                try:
                    socket.create_connection(("127.0.0.1", self.ports[svc]), timeout=1).close()
                    pending.discard(svc)
                except OSError:
                    pass
            if pending:
                time.sleep(0.05)
        return self

    def stop(self, timeout=10):
        """SIGTERM and wait; returns (exit code, seconds it took)."""
        if self.proc is None or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None, 0.0)
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        return rc, time.time() - t0

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def rss_kib(self, field="VmRSS"):
        """Resident memory in KiB; field="RssAnon" counts only the server's
        own (anonymous) memory, not mapped message files."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.kill()
        if getattr(self, "logf", None):
            self.logf.close()
        if self.own_tmp and not os.environ.get("MK_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- tools ---
    def cli(self, *args, input=None, check=True, timeout=60):
        p = subprocess.run([BIN, "--config", self.config, *args], input=input,
                           capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"mailkeep {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p

    def add_user(self, address, password):
        return self.cli("user", "add", address, input=password + "\n")

    # --- clients ---
    def connect(self, svc, timeout=10):
        """A connected socket (TLS-wrapped on implicit-TLS services)."""
        s = socket.create_connection(("127.0.0.1", self.ports[svc]), timeout=timeout)
        if svc in IMPLICIT_TLS:
            s = tls_context().wrap_socket(s)
        return s


class Lines:
    """Line-oriented reading over a socket, with a deadline."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def readline(self, timeout=10):
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError(f"no line within {timeout}s; have {self.buf[:200]!r}")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; have {self.buf[:200]!r}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def send(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)

    def cmd(self, text, timeout=10):
        self.send(text + "\r\n")
        return self.readline(timeout)

    def read_multiline(self, timeout=10):
        out = []
        while True:
            line = self.readline(timeout)
            if line == ".":
                return out
            out.append(line[1:] if line.startswith("..") else line)

    def closed_by_peer(self, timeout=5):
        """True if the server closes the connection within timeout."""
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.time()))
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return False
