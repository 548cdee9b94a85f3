#!/usr/bin/env python3
"""Deterministic mail corpus for bench/run.

    bench/corpus.py --seed 7 --count 10000 --out DIR [--small]

Writes DIR/000001.eml ... (CRLF line ends, as IMAP APPEND and LMTP send
them) and DIR/index.tsv (file, size, subject word, rare word or "-").
The same seed and count always give the same bytes (random.Random only,
no clock, no os.urandom).

The mix, by message:
  - 70% plain text, 1-6 KB, sometimes quoted-printable;
  - 24% multipart/alternative (text/plain + text/html), 3-15 KB;
  -  6% multipart/mixed with a base64 attachment of 20-120 KB
       (pdf, png, zip: pseudo-random bytes), some with a text/calendar part;
  -  3 in 1000 large: one attachment of 150 KB - 1 MB;
  - 30% have a non-ASCII Subject or From name as RFC 2047 encoded words
    (UTF-8 B and Q, ISO-8859-1, ISO-8859-2, KOI8-R, Shift_JIS, ISO-2022-JP);
  - messages come in threads: a reply carries In-Reply-To and References
    to earlier messages of its thread and "Re: " in the subject.
With --small: only the plain and alternative kinds (for the mixed-load
APPENDs and LMTP, about 5 KB each).

Rare words for SEARCH BODY: RARE_WORDS[k] is planted in the body of every
message whose number n satisfies n % RARE_EVERY == RARE_OFFSET[k] (about 1 in
10,000 messages), and nowhere else: no other generated text contains them.
"""

import argparse
import base64
import os
import quopri
import random
import sys

RARE_WORDS = ["quixotry", "zymurgist", "xanthoceras"]
RARE_EVERY = 9973
RARE_OFFSET = [17, 4711, 8000]

# Subject words: SEARCH SUBJECT looks for SUBJECT_WORD (in about 1 in 50).
SUBJECT_WORD = "marzipan"

WORDS = (
    "the of and to in is that for it as with was on be by at this have from or "
    "an they which you one we all were there can been has more if will their "
    "would about so what up out them into some could other time then these two "
    "may first only new also any people after over well like just where most "
    "meeting report budget lunch project status update review invoice travel "
    "schedule release customer support design draft server backup weekend "
    "coffee question answer quarter planning office contract deadline team "
    "agenda minutes holiday approval shipment order delivery account password "
    "printer network laptop license renewal training workshop conference "
    "slides feedback proposal estimate migration outage ticket incident"
).split()

FIRST = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi",
         "Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert",
         "Sybil", "Trent", "Victor", "Walter", "Yvonne"]
LAST = ["Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Thomas",
        "Moreau", "Rossi", "Novak", "Kowalski", "Jensen", "Garcia", "Silva"]
DOMAINS = ["example.org", "example.net", "mail.example.com", "corp.example",
           "lists.example.org"]

# (charset, text) for encoded words; each text is representable in it.
NON_ASCII = [
    ("utf-8", "Réunion équipe: café à 10h"),
    ("utf-8", "Übersicht der Änderungen für März"),
    ("utf-8", "Отчёт за квартал"),
    ("utf-8", "会議の議事録"),
    ("utf-8", "Zażółć gęślą jaźń"),
    ("utf-8", "Προσφορά για το έργο"),
    ("iso-8859-1", "Réservation confirmée"),
    ("iso-8859-1", "Grüße aus München"),
    ("iso-8859-2", "Příliš žluťoučký kůň"),
    ("koi8-r", "Привет из Москвы"),
    ("shift_jis", "お知らせ"),
    ("iso-2022-jp", "見積書の送付"),
]
NON_ASCII_NAMES = [
    ("utf-8", "José Müller"), ("iso-8859-1", "François Dupré"),
    ("iso-8859-2", "Łukasz Wróbel"), ("koi8-r", "Дмитрий Иванов"),
    ("utf-8", "山田 太郎"), ("utf-8", "Søren Kierkegård"),
]

ATTACH_TYPES = [("application/pdf", "pdf"), ("image/png", "png"),
                ("application/zip", "zip"),
                ("application/vnd.openxmlformats-officedocument."
                 "wordprocessingml.document", "docx")]


def encoded_word(rng, charset, text):
    raw = text.encode(charset)
    if charset == "iso-2022-jp" or rng.random() < 0.6:
        return "=?%s?B?%s?=" % (charset, base64.b64encode(raw).decode())
    q = []
    for b in raw:
        c = chr(b)
        if c == " ":
            q.append("_")
        elif c.isalnum() and b < 128:
            q.append(c)
        else:
            q.append("=%02X" % b)
    return "=?%s?Q?%s?=" % (charset, "".join(q))


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def paragraph_text(rng, size):
    """Plain text of about size bytes, lines under 78 characters."""
    lines, total, line = [], 0, []
    while total < size:
        w = rng.choice(WORDS)
        if sum(len(x) + 1 for x in line) + len(w) > 72:
            lines.append(" ".join(line))
            total += len(lines[-1]) + 2
            line = []
            if rng.random() < 0.15:
                lines.append("")
        line.append(w)
    if line:
        lines.append(" ".join(line))
    return lines


def fold_b64(data):
    s = base64.b64encode(data).decode()
    return [s[i:i + 76] for i in range(0, len(s), 76)]


class Gen:
    def __init__(self, seed, small):
        self.rng = random.Random(seed)
        self.small = small
        self.threads = []  # list of (subject, [message-ids])

    def address(self, allow_non_ascii=True):
        r = self.rng
        first, last = r.choice(FIRST), r.choice(LAST)
        addr = "%s.%s@%s" % (first.lower(), last.lower(), r.choice(DOMAINS))
        if allow_non_ascii and r.random() < 0.15:
            cs, name = r.choice(NON_ASCII_NAMES)
            return "%s <%s>" % (encoded_word(r, cs, name), addr)
        if r.random() < 0.1:
            return addr
        return '"%s %s" <%s>' % (first, last, addr)

    def message(self, n):
        r = self.rng
        mid = "<%d.%08x@bench.example>" % (n, r.getrandbits(32))
        # Thread: new, or a reply to a recent thread.
        refs = []
        if self.threads and r.random() < 0.4:
            t = self.threads[r.randrange(max(0, len(self.threads) - 50), len(self.threads))]
            subject = "Re: " + t[0]
            refs = t[1][-8:]
            t[1].append(mid)
        else:
            if r.random() < 0.3:
                cs, text = r.choice(NON_ASCII)
                subject = encoded_word(r, cs, text)
            else:
                subject = sentence(r, r.randint(2, 7))[:-1]
            if n % 50 == 7:
                subject += " " + SUBJECT_WORD
            self.threads.append((subject, [mid]))
            if len(self.threads) > 500:
                self.threads.pop(0)
        day = 1 + n % 28
        date = "%s, %02d Oct 2026 %02d:%02d:%02d %s" % (
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][day % 7], day,
            r.randrange(24), r.randrange(60), r.randrange(60),
            r.choice(["+0000", "+0200", "-0500", "+0900"]))
        hdr = [
            "Return-Path: <bounce-%d@example.org>" % n,
            "Received: from mx.example.org (mx.example.org [192.0.2.%d])\r\n"
            "\tby mail.bench.test with ESMTPS id %08X; %s" % (1 + n % 250, r.getrandbits(32), date),
            "Date: " + date,
            "From: " + self.address(),
            "To: " + ", ".join(self.address() for _ in range(r.choice([1, 1, 1, 2, 3]))),
        ]
        if r.random() < 0.25:
            hdr.append("Cc: " + self.address())
        hdr.append("Subject: " + subject)
        hdr.append("Message-ID: " + mid)
        if refs:
            hdr.append("In-Reply-To: " + refs[-1])
            hdr.append("References: " + "\r\n ".join(refs))
        hdr.append("MIME-Version: 1.0")
        if r.random() < 0.2:
            hdr.append("List-Id: <bench.lists.example.org>")
        if r.random() < 0.5:
            hdr.append("X-Mailer: Bench Mailer %d.%d" % (r.randrange(10), r.randrange(10)))

        rare = [RARE_WORDS[k] for k in range(len(RARE_WORDS))
                if n % RARE_EVERY == RARE_OFFSET[k]]

        x = r.random()
        if self.small:
            kind = "plain" if x < 0.7 else "alt"
        elif n % 1000 == 500 or n % 1000 == 900 or n % 1000 == 250:
            kind = "large"
        elif x < 0.70:
            kind = "plain"
        elif x < 0.94:
            kind = "alt"
        else:
            kind = "attach"

        text_lines = paragraph_text(r, r.randint(800, 5500) if kind == "plain"
                                    else r.randint(1000, 6000))
        if rare:
            text_lines.insert(r.randrange(len(text_lines) + 1),
                              "By the way: " + " ".join(rare) + " again.")
        text_lines += ["", "-- ", "%s %s" % (r.choice(FIRST), r.choice(LAST))]

        body = []
        if kind == "plain":
            if r.random() < 0.2:
                hdr.append("Content-Type: text/plain; charset=utf-8")
                hdr.append("Content-Transfer-Encoding: quoted-printable")
                raw = ("\n".join(text_lines) + "\nCaf\u00e9 cr\u00e8me.\n").encode("utf-8")
                qp = quopri.encodestring(raw).decode("ascii")
                body = qp.replace("\r\n", "\n").split("\n")
            else:
                hdr.append("Content-Type: text/plain; charset=us-ascii; format=flowed")
                hdr.append("Content-Transfer-Encoding: 7bit")
                body = text_lines
        elif kind == "alt":
            b = "=_alt_%08x" % r.getrandbits(32)
            hdr.append('Content-Type: multipart/alternative; boundary="%s"' % b)
            html = ["<html><body>"] + ["<p>%s</p>" % l for l in text_lines if l] + ["</body></html>"]
            body = ["This is a multi-part message in MIME format.", "",
                    "--" + b, "Content-Type: text/plain; charset=us-ascii", ""]
            body += text_lines
            body += ["", "--" + b, "Content-Type: text/html; charset=us-ascii", ""]
            body += html
            body += ["", "--" + b + "--", ""]
        else:
            b = "=_mixed_%08x" % r.getrandbits(32)
            hdr.append('Content-Type: multipart/mixed; boundary="%s"' % b)
            body = ["--" + b, "Content-Type: text/plain; charset=us-ascii", ""] + text_lines
            if r.random() < 0.2:
                body += ["", "--" + b, "Content-Type: text/calendar; method=REQUEST; charset=utf-8", "",
                         "BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT",
                         "SUMMARY:" + sentence(r, 4), "DTSTART:20261105T100000Z",
                         "END:VEVENT", "END:VCALENDAR"]
            size = r.randint(150_000, 1_000_000) if kind == "large" else r.randint(20_000, 120_000)
            ctype, ext = r.choice(ATTACH_TYPES)
            fname = "%s-%d.%s" % (r.choice(WORDS), n, ext)
            if r.random() < 0.2:
                cs, text = r.choice(NON_ASCII)
                fparam = 'filename="%s.%s"' % (encoded_word(r, cs, text), ext)
            else:
                fparam = 'filename="%s"' % fname
            body += ["", "--" + b, 'Content-Type: %s; name="%s"' % (ctype, fname),
                     "Content-Transfer-Encoding: base64",
                     "Content-Disposition: attachment; " + fparam, ""]
            body += fold_b64(r.randbytes(size * 3 // 4))
            body += ["", "--" + b + "--", ""]
        msg = "\r\n".join(hdr) + "\r\n\r\n" + "\r\n".join(body) + "\r\n"
        subj_word = SUBJECT_WORD if SUBJECT_WORD in subject else "-"
        return msg.encode("utf-8"), subj_word, ",".join(rare) or "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--small", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    g = Gen(a.seed, a.small)
    with open(os.path.join(a.out, "index.tsv.tmp"), "w") as idx:
        for n in range(1, a.count + 1):
            data, sw, rare = g.message(n)
            name = "%06d.eml" % n
            with open(os.path.join(a.out, name), "wb") as f:
                f.write(data)
            idx.write("%s\t%d\t%s\t%s\n" % (name, len(data), sw, rare))
    os.rename(os.path.join(a.out, "index.tsv.tmp"), os.path.join(a.out, "index.tsv"))


if __name__ == "__main__":
    sys.exit(main())
