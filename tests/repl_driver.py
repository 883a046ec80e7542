#!/usr/bin/env python3
"""repl_driver.py - drive `heapinspect -i` through a pseudo-terminal (tests/repl.test).

Usage: repl_driver.py HEAPINSPECT STATEHOME PYPID DIFFPID DIFFOUT

  PYPID    a Python target holding 100,000 small glibc chunks and a thread
  DIFFPID  tests/targets/diff_target; DIFFOUT its stdout (READY lines)

Three sessions, each on a fresh pty with HOME and XDG_STATE_HOME set to
STATEHOME:
  1. on PYPID (NO_COLOR=1): Tab completion of a command, an option and a
     state; reports; x on an unmapped and a copied address; who and chunk
     on a chunk address; Ctrl-C at the prompt and during a long listing;
     stop (every thread in state t, traced by us), refresh while held,
     cont (running, untraced); stop again, then quit (running, untraced);
     the history file holds the commands; no colour escape anywhere.
  2. on DIFFPID: save s1, the target changes (SIGUSR1), refresh,
     `diff s<Tab>` completes the snapshot name and the diff shows the
     change; stop, then end of input (Ctrl-D): the target runs on.
  3. on the snapshot file (-i FILE, TERM=xterm, no NO_COLOR): a report,
     stop refused (not a live process), the prompt in colour.
Prints "ok - ..." / "FAIL - ..." lines; exits 1 if any check failed.
"""
import os
import pty
import re
import select
import signal
import sys
import time

HEAPINSPECT, STATEHOME, PYPID, DIFFPID, DIFFOUT = sys.argv[1:6]
PYPID, DIFFPID = int(PYPID), int(DIFFPID)
failures = 0


def check(cond, what, detail=""):
    global failures
    if cond:
        print("ok - " + what)
    else:
        failures += 1
        print("FAIL - " + what + (": " + detail[-1500:] if detail else ""))
    sys.stdout.flush()
    return cond


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|[\x01\x02\x07]")


def clean(text):
    return ANSI.sub("", text).replace("\r", "")


class Session:
    def __init__(self, args, env_extra):
        env = dict(os.environ)
        env.update({"HOME": STATEHOME, "XDG_STATE_HOME": STATEHOME + "/state",
                    "INPUTRC": "/dev/null", "TERM": "xterm"})
        env.pop("NO_COLOR", None)
        env.update(env_extra)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(HEAPINSPECT, [HEAPINSPECT] + args, env)
        self.raw = ""		# everything read, escapes included
        self.text = ""		# the same without escapes and \r
        self.pos = 0		# start of what expect() has not consumed in text

    def read_some(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return None
        if not data:
            return None
        data = data.decode("utf-8", "replace")
        self.raw += data
        self.text += clean(data)
        return True

    def expect(self, pattern, timeout=60):
        """Read until PATTERN (regex, multi-line) matches the unconsumed
        output; returns that output up to the end of the match, or None."""
        deadline = time.time() + timeout
        rx = re.compile(pattern, re.M)
        while True:
            m = rx.search(self.text, self.pos)
            if m:
                out = self.text[self.pos:m.end()]
                self.pos = m.end()
                return out
            left = deadline - time.time()
            if left <= 0 or self.read_some(min(left, 0.5)) is None:
                return None

    def send(self, s):
        os.write(self.fd, s.encode())

    def prompt(self, timeout=60):
        return self.expect(r"heapinspect [^\n>]*> $", timeout)

    def cmd(self, line, timeout=60):
        """Send LINE, return its output (up to the next prompt) or None."""
        self.send(line + "\n")
        return self.prompt(timeout)

    def wait_exit(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.read_some(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return status
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return None


def threads_state(pid):
    """[(tid, state letter, tracer pid)] for every thread of PID."""
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                tracer = int(re.search(r"^TracerPid:\s*(\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            continue
        out.append((int(tid), state, tracer))
    return out


def running_untraced(pid, wait=3.0):
    deadline = time.time() + wait
    while True:
        st = threads_state(pid)
        if st and all(s not in "tTZX" and tr == 0 for _, s, tr in st):
            return True, st
        if time.time() > deadline:
            return False, st
        time.sleep(0.02)


def held_by(pid, tracer):
    st = threads_state(pid)
    return bool(st) and all(s == "t" and tr == tracer for _, s, tr in st), st


# ---- session 1: the Python target --------------------------------------------
s = Session(["-i", str(PYPID)], {"NO_COLOR": "1"})
out = s.prompt(120)
check(out is not None and "process %d" % PYPID in out, "session opens on the live process",
      clean(s.raw))

# completion: a command prefix, then an option and a chunk state
s.send("summ\t")
echo = s.expect(r"summary ", 10)
check(echo is not None, "Tab completes 'summ' to 'summary'", clean(s.raw[-300:]))
out = s.cmd("")
check(out is not None and "totals (the figures of mallinfo2)" in out,
      "the completed summary runs", out or clean(s.raw[-500:]))
s.send("expl\t")
check(s.expect(r"explain ", 10) is not None, "Tab completes 'expl' to 'explain'")
s.send("\x15")		# Ctrl-U: drop the line
s.send("chunks --sta\t")
check(s.expect(r"--state ", 10) is not None, "Tab completes the option --sta to --state")
s.send("inu\t")
check(s.expect(r"inuse ", 10) is not None, "Tab completes a chunk state after --state")
out = s.cmd("--limit 3")
rows = re.findall(r"^0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\d+)\s+(\d+)\s+(\S+)", out or "", re.M)
check(len(rows) == 3 and all(r[3] == "inuse" for r in rows) and
      re.search(r"-- chunks 1-3 of \d+; --offset 3 for the next --", out),
      "chunks --state inuse --limit 3: three in-use rows and the page footer", out or "")
s.send("arr\t")
check(s.expect(r"array", 10) is not None, "Tab completes 'arr' to the common prefix 'array'")
s.send("\t\t")
lst = s.expect(r"array\s+arrays", 10)
check(lst is not None, "more Tabs list array and arrays", clean(s.raw[-300:]))
s.send("\x15")
s.cmd("")

# x: unmapped, then a copied address
out = s.cmd("x 0x10 32")
check(out is not None and "not mapped" in out and "?? ?? ??" in out and
      "32 of 32 bytes" in out, "x on an unmapped address: ?? and says so", out or "")
mem = int(rows[0][0], 16) if rows else 0
out = s.cmd("x %#x 16" % mem)
check(out is not None and "??" not in out and
      re.search(r"^0x0*%x (\s[0-9a-f]{2}){8} (\s[0-9a-f]{2}){8}\s+\|" % mem, out, re.M),
      "x on a chunk's user bytes: 16 bytes, all copied", out or "")

# who and chunk on a chunk address
out = s.cmd("who %#x" % (mem + 8))
hdr = mem - 16
check(out is not None and ("glibc chunk %#x" % hdr) in out and "inuse" in out and
      "at +8" in out, "who on a chunk address names the chunk and the offset", out or "")
out = s.cmd("chunk %#x" % (mem + 8))
check(out is not None and ("glibc chunk %#x" % hdr) in out and "inuse" in out and
      "usable" in out and "user byte +8" in out,
      "chunk ADDR: the chunk, its state, size and usable bytes", out or "")
out = s.cmd("obj %#x" % mem)
check(out is not None and ("glibc chunk %#x" % hdr) in out, "obj ADDR (a report command)",
      out or "")
out = s.cmd("frobnicate")
check(out is not None and "unknown command" in out, "an unknown command is reported", out or "")

# Ctrl-C at the prompt drops the line
s.send("summ")
time.sleep(0.2)
s.send("\x03")
check(s.prompt(10) is not None, "Ctrl-C at the prompt gives a fresh prompt")
out = s.cmd("mp")
check(out is not None and "malloc parameters" in out and "totals" not in out,
      "the interrupted line was dropped (mp ran alone)", out or "")

# Ctrl-C during a long listing: 100,000+ rows, and we stop reading so the
# command blocks on the terminal
s.send("chunks --limit 0\n")
first = s.expect(r"^0x[0-9a-f]+ +0x[0-9a-f]+ +\d+", 60)
time.sleep(0.5)
s.send("\x03")
out = s.prompt(30)
check(first is not None and out is not None and "interrupted" in out,
      "Ctrl-C during chunks --limit 0 interrupts it", (out or clean(s.raw[-500:]))[-600:])
if out is not None:
    n = len(re.findall(r"^0x[0-9a-f]+ +0x", out, re.M))
    check(n < 100000, "the listing was cut short (%d rows printed)" % n)
out = s.cmd("summary")
check(out is not None and "totals (the figures of mallinfo2)" in out,
      "the session still answers after Ctrl-C", out or "")

# stop / refresh / cont
out = s.cmd("stop")
ok, st = held_by(PYPID, s.pid)
check(out is not None and "stopped" in out and ok,
      "stop: every thread of the target in state t, traced by the REPL", "%r %r" % (out, st))
out = s.cmd("refresh", 120)
ok, st = held_by(PYPID, s.pid)
check(out is not None and "held stopped" in out and ok,
      "refresh while stopped copies it and keeps it stopped", "%r %r" % (out, st))
check(out is not None and "(stopped)> " in clean(s.raw[-200:]), "the prompt says (stopped)")
out = s.cmd("cont")
ok, st = running_untraced(PYPID)
check(out is not None and ok, "cont: the target runs again, untraced", "%r %r" % (out, st))
out = s.cmd("refresh", 120)
ok, st = running_untraced(PYPID)
check(out is not None and "running again" in out and ok,
      "refresh (not held): pause, copy, resume", "%r %r" % (out, st))
out = s.cmd("stop")
ok, _ = held_by(PYPID, s.pid)
check(ok, "stop again before quit")
s.send("quit\n")
status = s.wait_exit()
check(status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
      "quit ends the session with status 0", str(status))
ok, st = running_untraced(PYPID)
check(ok, "after quit (with the target held) it runs on, untraced", repr(st))
check(not re.search(r"\x1b\[[0-9;]*m", s.raw), "NO_COLOR: no colour escape in the session")

hist = STATEHOME + "/state/heapinspect/history"
try:
    lines = open(hist).read().splitlines()
except OSError:
    lines = []
want = ["summary", "x 0x10 32", "mp", "stop", "cont", "quit"]
check(all(w in lines for w in want) and "summ" not in lines,
      "history file %s holds the commands (not the cancelled line)" % hist, repr(lines))

# ---- session 2: save and diff on diff_target ----------------------------------
s = Session(["-i", str(DIFFPID)], {"NO_COLOR": "1"})
check(s.prompt(120) is not None, "session 2 opens on diff_target")
out = s.cmd("save s1", 120)
snap = STATEHOME + "/state/heapinspect/snapshots/s1.himg"
check(out is not None and "saved s1" in out and os.path.getsize(snap) > 0,
      "save s1 writes %s" % snap, out or "")
with open(DIFFOUT) as f:
    before = f.read().count("READY")
os.kill(DIFFPID, signal.SIGUSR1)
deadline = time.time() + 20
while time.time() < deadline:
    with open(DIFFOUT) as f:
        if f.read().count("READY") > before:
            break
    time.sleep(0.02)
out = s.cmd("refresh", 120)
check(out is not None and "copied" in out, "refresh after the change", out or "")
s.send("diff s\t")
check(s.expect(r"diff s1 ", 10) is not None, "Tab completes the snapshot name s1",
      clean(s.raw[-200:]))
out = s.cmd("", 120)
check(out is not None and "diff: before" in out and
      re.search(r"^\s+208\s+700\s+145600\s", out, re.M) and
      re.search(r"^\s+48\s+0\s+0\s+400\s+19200\b", out, re.M),
      "diff s1: +700 chunks of 208 B and -400 of 48 B", out or "")
out = s.cmd("diff s1 nosuch")
check(out is not None and "nosuch" in out, "diff with a missing snapshot says so", out or "")
out = s.cmd("stop")
ok, _ = held_by(DIFFPID, s.pid)
check(ok, "session 2: stop holds diff_target")
s.send("\x04")		# Ctrl-D on an empty line: end of input
status = s.wait_exit()
ok, st = running_untraced(DIFFPID)
check(status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and ok,
      "end of input (Ctrl-D) ends the session; the held target runs on", "%r %r" % (status, st))

# ---- session 3: a snapshot, in colour -----------------------------------------
s = Session(["-i", snap], {})
out = s.prompt(120)
check(out is not None and "snapshot " in out, "-i SNAPSHOT opens the snapshot", clean(s.raw))
check("\x1b[1mheapinspect" in s.raw, "on a terminal without NO_COLOR the prompt is in colour",
      repr(s.raw[-200:]))
out = s.cmd("mp")
check(out is not None and "malloc parameters" in out, "a report on the snapshot", out or "")
out = s.cmd("stop")
check(out is not None and "not a live process" in out, "stop on a snapshot is refused",
      out or "")
s.send("quit\n")
status = s.wait_exit()
check(status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
      "session 3 quits", str(status))

sys.exit(1 if failures else 0)
