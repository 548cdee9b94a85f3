#!/usr/bin/env python3
"""Run every mailkeep test and end with the line "N passed, N failed".

  unit   C unit tests (cmocka, TAP output), one binary per tests/unit/test_*.c
  fuzz   each fuzz target's replay build over its committed corpus
  e2e    python3 unittest modules in tests/e2e/ and tests/proto/, which start
         the real server on loopback ports (see tests/e2e/mk.py)

Usage: tests/run.py --build build/debug [--only unit|fuzz|e2e] [-k PATTERN]
Exit status is 0 only when nothing failed.
"""
import argparse
import os
import re
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def ok(self, name):
        self.passed += 1

    def fail(self, name, detail=""):
        self.failed += 1
        self.failures.append(name)
        print(f"FAIL {name}")
        if detail:
            print("    " + detail.rstrip().replace("\n", "\n    "))


def executables(d, prefix):
    if not os.path.isdir(d):
        return []
    out = []
    for n in sorted(os.listdir(d)):
        p = os.path.join(d, n)
        if n.startswith(prefix) and "." not in n and os.access(p, os.X_OK):
            out.append(p)
    return out


def run_unit(build, tally, pattern):
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
    for exe in executables(os.path.join(build, "tests", "unit"), "test_"):
        name = os.path.basename(exe)
        if pattern and not re.search(pattern, name):
            continue
        t0 = time.time()
        try:
            p = subprocess.run([exe], env=env, cwd=ROOT, capture_output=True,
                               text=True, errors="replace", timeout=300)
            out, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out, rc = (e.stdout or "") if isinstance(e.stdout, str) else "", -1
            out += "\n(timed out after 300 s)"
        oks = re.findall(r"^ok \d+ - (.*)$", out, re.M)
        bad = re.findall(r"^not ok \d+ - (.*)$", out, re.M)
        for t in oks:
            tally.ok(f"{name}:{t}")
        for t in bad:
            tally.fail(f"{name}:{t}", out[-3000:])
        if rc != 0 and not bad:
            tally.fail(f"{name} (exit {rc})", out[-3000:])
        print(f"unit {name}: {len(oks)} ok, {len(bad)} failed ({time.time()-t0:.1f}s)")


def run_fuzz(build, tally, pattern):
    for exe in executables(os.path.join(build, "tests", "fuzz"), "fuzz_"):
        name = os.path.basename(exe)
        if pattern and not re.search(pattern, name):
            continue
        corpus = os.path.join(ROOT, "tests", "fuzz", "corpus", name)
        if not os.path.isdir(corpus) or not os.listdir(corpus):
            tally.fail(f"fuzz {name}", f"no corpus in {corpus}")
            continue
        try:
            p = subprocess.run([exe, corpus], capture_output=True, text=True,
                               errors="replace", timeout=300)
            out, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired:
            out, rc = "timed out", -1
        if rc == 0:
            tally.ok(f"fuzz {name}")
            print(f"fuzz {name}: {out.strip().splitlines()[-1] if out.strip() else ''}")
        else:
            tally.fail(f"fuzz {name} (exit {rc})", out[-3000:])


class TallyResult(unittest.TextTestResult):
    pass


def run_e2e(build, tally, pattern):
    os.environ["MAILKEEP_BIN"] = os.path.abspath(os.path.join(build, "mailkeep"))
    os.environ["MAILKEEP_BUILD"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = [f"*{pattern}*"]
    suite = unittest.TestSuite()
    for d in ("e2e", "proto"):
        top = os.path.join(ROOT, "tests", d)
        if os.path.isdir(top):
            suite.addTests(loader.discover(top, pattern="test_*.py", top_level_dir=top))
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    bad = {}
    for test, tb in result.failures + result.errors:
        bad[test.id()] = tb
    for test, tb in result.unexpectedSuccesses if hasattr(result, "unexpectedSuccesses") else []:
        pass
    n_ok = result.testsRun - len(bad) - len(result.skipped)
    for i in range(n_ok):
        tally.ok("e2e")
    for name, tb in bad.items():
        tally.fail(name, tb[-3000:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--only", choices=["unit", "fuzz", "e2e"])
    ap.add_argument("-k", dest="pattern")
    a = ap.parse_args()
    tally = Tally()
    t0 = time.time()
    if a.only in (None, "unit"):
        run_unit(a.build, tally, a.pattern)
    if a.only in (None, "fuzz"):
        run_fuzz(a.build, tally, a.pattern)
    if a.only in (None, "e2e"):
        run_e2e(a.build, tally, a.pattern)
    print(f"\ntests took {time.time()-t0:.0f}s")
    if tally.failures:
        print("failed: " + ", ".join(tally.failures))
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
