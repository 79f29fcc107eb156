#!/usr/bin/env python3
"""Integration tests of traces: --trace, trace show/stats, record, replay, the Lua dissector.

Prints TAP 13 (meson protocol 'tap'). Modes:

  cli     VHOST_CONFORM DAEMON            --trace, --trace-datapath, trace show/stats, the
                                          frame a FAIL names, a killed run, bad trace files
  replay  VHOST_CONFORM DAEMON            a recorded run replays against the reference with
                                          no difference and fails against mutants that
                                          break a reply; bad traces and bad usage
  record  VHOST_CONFORM DAEMON            the recording proxy between vhost-conform and the
                                          reference, and with a fake daemon that uses the
                                          back-end channel; replay of what it recorded
  tshark  VHOST_CONFORM DAEMON SYNTH LUA  traces/wireshark/vhost-user.lua under tshark agrees
                                          with `trace show` on every frame (a TAP skip, the
                                          meson equivalent of exit 77, without tshark)
  samples VHOST_CONFORM SAMPLES_DIR       every committed QEMU sample replays against the
                                          daemon it came from (a sample whose daemon is not
                                          installed, or needs root, is skipped)

With VC_VALGRIND=1 (the 'valgrind' test setup) every vhost-conform run goes through valgrind.
"""

import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

VALGRIND = ["valgrind", "--quiet", "--error-exitcode=3", "--leak-check=full",
            "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite,indirect",
            "--trace-children=no", "--child-silent-after-fork=yes"]
UNDER_VALGRIND = os.environ.get("VC_VALGRIND") == "1"
TIMEOUT = 900 if UNDER_VALGRIND else 180
# Checks whose recording replays deterministically and quickly.
RECORD_ONLY = "VU-HDR-04,VU-NEG,VU-VB,VU-RA,VU-STS"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        print("TAP version 13", flush=True)

    def ok(self, cond, text, detail=None):
        self.n += 1
        if not cond:
            self.failed += 1
        text = text.replace("#", "(hash)")
        print(f"{'ok' if cond else 'not ok'} {self.n} - {text}", flush=True)
        if detail is not None and not cond:
            for line in str(detail).splitlines()[-20:]:
                print(f"# {line}", flush=True)
        return cond

    def skip(self, text, why):
        self.n += 1
        print(f"ok {self.n} - {text} # SKIP {why}", flush=True)

    def done(self):
        print(f"1..{self.n}", flush=True)
        return 1 if self.failed else 0


def vc(exe, *args, timeout=TIMEOUT, valgrind=True):
    cmd = ([*VALGRIND] if UNDER_VALGRIND and valgrind else []) + [exe, *args]
    env = dict(os.environ)
    if UNDER_VALGRIND:
        env["VC_UNDER_VALGRIND"] = "1"
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def out_of(p):
    return f"exit {p.returncode}\nstdout:\n{p.stdout[-3000:]}\nstderr:\n{p.stderr[-3000:]}"


HDR = re.compile(r"^\s*(\d+) \S+ conn (\S+) (F2B|B2F) (\S+) \((\d+)\)( reply)?, "
                 r"flags 0x([0-9a-f]+) \[[^]]*\], size (\d+)(.*)$")
OTHER = re.compile(r"^\s*(\d+) \S+ conn (\S+) (MARK|KICK|CALL|AVAIL|USED|F2B|B2F) ?(.*)$")


def parse_show(text):
    """Frames of `trace show` output: number -> dict."""
    frames = {}
    last = None
    for line in text.splitlines():
        if line.startswith("\t"):
            if last is not None:
                last.setdefault("lines", []).append(line.strip())
            continue
        m = HDR.match(line)
        if m:
            last = frames[int(m.group(1))] = {
                "kind": m.group(3), "conn": m.group(2), "name": m.group(4),
                "request": int(m.group(5)), "reply": bool(m.group(6)),
                "flags": int(m.group(7), 16), "size": int(m.group(8)), "rest": m.group(9)}
            continue
        m = OTHER.match(line)
        if m:
            last = frames[int(m.group(1))] = {"kind": m.group(3), "conn": m.group(2),
                                              "rest": m.group(4)}
    return frames


def show(exe, path, *extra):
    p = vc(exe, "trace", "show", *extra, path)
    return p, parse_show(p.stdout)


def record_run(exe, daemon, path, *extra, only=RECORD_ONLY):
    return vc(exe, "--format", "tap", "--trace", path, "--only", only, *extra,
              "--backend", daemon)


# --- cli -----------------------------------------------------------------------------------

def children_of(pid):
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def mode_cli(exe, daemon):
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="vc-traces-") as d:
        t = os.path.join(d, "run.pcap")
        p = record_run(exe, daemon, t)
        tap.ok(p.returncode == 0, "a run with --trace passes against the reference", out_of(p))
        p, frames = show(exe, t)
        kinds = {f["kind"] for f in frames.values()}
        tap.ok(p.returncode == 0 and {"F2B", "B2F", "MARK"} <= kinds,
               "trace show decodes the run (F2B, B2F and markers)", out_of(p))
        feats = [f for f in frames.values() if f.get("name") == "VHOST_USER_GET_FEATURES"
                 and f["reply"]]
        tap.ok(feats and any("features=0x" in l for l in feats[0].get("lines", [])),
               "GET_FEATURES replies are decoded with their feature bits", feats[:1])
        fds = [f for f in frames.values() if f.get("name") == "VHOST_USER_ADD_MEM_REG"
               and not f["reply"]]
        tap.ok(fds and "1 fd: memfd size=" in fds[0]["rest"],
               "ADD_MEM_REG shows its memfd and the memfd's size", fds[:1])
        calls = [f for f in frames.values() if f.get("name") == "VHOST_USER_SET_VRING_CALL"
                 and not f["reply"]]
        tap.ok(calls and "eventfd" in calls[0]["rest"], "SET_VRING_CALL shows an eventfd",
               calls[:1])
        p = vc(exe, "trace", "stats", t)
        tap.ok(p.returncode == 0 and "VHOST_USER_GET_FEATURES" in p.stdout
               and re.search(r"messages: \d+ \(F2B \d+, B2F \d+\)", p.stdout)
               and "reply latency" in p.stdout, "trace stats summarizes the run", out_of(p))
        p = vc(exe, "trace", "show", "--frame", "3", "--relative", t)
        tap.ok(p.returncode == 0 and len([l for l in p.stdout.splitlines()
                                          if not l.startswith("\t")]) == 1,
               "trace show --frame N prints one frame", out_of(p))

        # A FAIL names the frame that shows it.
        j = os.path.join(d, "report.json")
        t2 = os.path.join(d, "fail.pcap")
        p = vc(exe, "--format", "tap", "--json", j, "--trace", t2, "--only", "VU-HDR-04",
               "--backend", daemon, "--mutant=reply-wrong-size")
        res = []
        if os.path.exists(j):
            with open(j, encoding="utf-8") as f:
                res = json.load(f).get("results", [])
        ref = res[0].get("trace") if res else None
        tap.ok(p.returncode == 1 and ref and ref.startswith(t2 + "#frame="),
               "a FAIL in the report names FILE#frame=N", out_of(p) + f"\nresult: {res}")
        frame = int(ref.split("=")[-1]) if ref else 0
        _, frames2 = show(exe, t2)
        f = frames2.get(frame, {})
        tap.ok(f.get("name") == "VHOST_USER_GET_MAX_MEM_SLOTS" and f.get("reply")
               and f.get("size") == 4,
               "the frame named is the GET_MAX_MEM_SLOTS reply of size 4 that broke the rule", f)
        tap.ok(f'trace: "{t2}#frame=' in p.stdout,
               "the TAP output names the frame too", out_of(p))

        # --trace-datapath adds kicks, calls and chains; without it there are none.
        t3 = os.path.join(d, "dp.pcap")
        p = vc(exe, "--format", "tap", "--trace", t3, "--trace-datapath", "--only", "VIO-RNG-001",
               "--backend", daemon)
        _, frames3 = show(exe, t3)
        kinds3 = {f["kind"] for f in frames3.values()}
        tap.ok(p.returncode == 0 and {"KICK", "AVAIL", "USED"} <= kinds3,
               "--trace-datapath records kicks and descriptor chains", out_of(p) + str(kinds3))
        t4 = os.path.join(d, "nodp.pcap")
        vc(exe, "--format", "tap", "--trace", t4, "--only", "VIO-RNG-001", "--backend", daemon)
        _, frames4 = show(exe, t4)
        tap.ok(frames4 and not ({"KICK", "AVAIL", "USED", "CALL"} & {f["kind"] for f in
                                                                   frames4.values()}),
               "without --trace-datapath no datapath event is recorded")
        p = vc(exe, "--trace-datapath", "--backend", daemon)
        tap.ok(p.returncode == 2, "--trace-datapath without --trace is a usage error", out_of(p))
        p = vc(exe, "--trace", os.path.join(d, "no", "such", "dir.pcap"), "--backend", daemon)
        tap.ok(p.returncode == 99 and "dir.pcap" in p.stderr,
               "an unwritable --trace file is a harness error", out_of(p))

        # A killed run leaves a readable file.
        t5 = os.path.join(d, "killed.pcap")
        cmd = ([*VALGRIND] if UNDER_VALGRIND else []) + [exe, "--format", "tap", "--trace", t5,
                                                         "--backend", daemon]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline and (not os.path.exists(t5) or
                                          os.path.getsize(t5) < 20000):
            time.sleep(0.05)
        kids = children_of(proc.pid)
        proc.kill()
        proc.wait(timeout=30)
        for k in kids:
            try:
                os.killpg(k, signal.SIGKILL)
            except OSError:
                pass
        p, frames5 = show(exe, t5)
        tap.ok(p.returncode == 0 and len(frames5) > 50,
               f"a run killed with SIGKILL leaves a readable trace ({len(frames5)} frames)",
               out_of(p))

        # Bad input: one line naming the file and the frame (or its header), exit 2.
        with open(t, "rb") as f:
            good = f.read()
        bad = {
            "empty": b"",
            "text": b"this is not a packet capture\n" * 4,
            "truncated": good[:len(good) - 5],
            "garbage-prefix": good[:24 + 16 + 20] + b"\x07" + good[24 + 16 + 21:],
            "ethernet": struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
                        + struct.pack("<IIII", 0, 0, 14, 14) + b"\0" * 14,
        }
        want = {"empty": "file header", "text": "file header", "truncated": "frame ",
                "garbage-prefix": "frame 1: prefix version 7", "ethernet": "link type 1"}
        for name, data in bad.items():
            path = os.path.join(d, name + ".pcap")
            with open(path, "wb") as f:
                f.write(data)
            for sub in ("show", "stats"):
                p = vc(exe, "trace", sub, path)
                lines = p.stderr.strip().splitlines()
                tap.ok(p.returncode == 2 and len(lines) == 1 and path in lines[0]
                       and want[name] in lines[0],
                       f"trace {sub} of a {name} file: exit 2, one line naming "
                       f"'{want[name]}'", out_of(p))
        p = vc(exe, "trace", "show")
        tap.ok(p.returncode == 2, "trace show without a file is a usage error", out_of(p))
        p = vc(exe, "trace", "frobnicate", t)
        tap.ok(p.returncode == 2, "an unknown trace subcommand is a usage error", out_of(p))
    return tap.done()


# --- replay ---------------------------------------------------------------------------------

DIFF = re.compile(r"^frame (\d+) \(conn (\d+)\): (.*)$", re.M)


def mode_replay(exe, daemon):
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="vc-traces-") as d:
        t = os.path.join(d, "run.pcap")
        p = record_run(exe, daemon, t)
        tap.ok(p.returncode == 0, "recording a run against the reference", out_of(p))
        p = vc(exe, "replay", t, "--backend", daemon)
        tap.ok(p.returncode == 0 and " 0 differences" in p.stdout,
               "the recording replays against the reference with no difference", out_of(p))
        out = os.path.join(d, "replayed.pcap")
        p = vc(exe, "replay", t, "--trace", out, "--backend", daemon)
        _, orig = show(exe, t)
        _, again = show(exe, out)
        n_orig = len([f for f in orig.values() if f["kind"] == "F2B"])
        n_again = len([f for f in again.values() if f["kind"] == "F2B"])
        tap.ok(p.returncode == 0 and n_orig == n_again > 0,
               f"replay --trace records what it sends ({n_again} of {n_orig} requests)",
               out_of(p))

        p = vc(exe, "replay", t, "--backend", daemon, "--mutant=reply-wrong-size")
        m = DIFF.search(p.stdout)
        lines = p.stdout.splitlines()
        tap.ok(p.returncode == 1 and m and "GET_MAX_MEM_SLOTS" in m.group(3)
               and "size 4, recorded 8" in m.group(3),
               "against mutant reply-wrong-size: exit 1, the GET_MAX_MEM_SLOTS reply differs",
               out_of(p))
        if m:
            i = lines.index(m.group(0))
            tap.ok(lines[i + 1].startswith("  recorded: VHOST_USER_GET_MAX_MEM_SLOTS reply")
                   and "size 8" in lines[i + 1]
                   and lines[i + 2].startswith("  replayed: VHOST_USER_GET_MAX_MEM_SLOTS reply")
                   and "size 4" in lines[i + 2],
                   "the difference shows both messages decoded, one line each",
                   "\n".join(lines[i:i + 3]))
            f = orig.get(int(m.group(1)), {})
            tap.ok(f.get("name") == "VHOST_USER_GET_MAX_MEM_SLOTS" and f.get("reply"),
                   "the frame number reported is the recorded reply's frame", f)
        else:
            tap.ok(False, "the difference shows both messages decoded, one line each")
            tap.ok(False, "the frame number reported is the recorded reply's frame")
        p = vc(exe, "replay", t, "--backend", daemon, "--mutant=get-base-zero")
        tap.ok(p.returncode == 1 and "reply to VHOST_USER_GET_VRING_BASE" in p.stdout,
               "against mutant get-base-zero: exit 1, a GET_VRING_BASE reply differs", out_of(p))
        p = vc(exe, "replay", t, "--backend", daemon, "--mutant=ack-always-zero")
        tap.ok(p.returncode == 1 and "payload differs" in p.stdout,
               "against mutant ack-always-zero: exit 1, an ack's payload differs", out_of(p))
        p = vc(exe, "replay", t, "--timeout", "300ms", "--backend", daemon,
               "--mutant=no-ack-set-owner")
        tap.ok(p.returncode == 1 and "no message from the daemon before the deadline" in p.stdout
               and "reply to frame" in p.stdout,
               "against mutant no-ack-set-owner: exit 1, a missing reply is reported", out_of(p))

        # Bad traces and usage.
        with open(t, "rb") as f:
            good = f.read()
        cut = os.path.join(d, "cut.pcap")
        with open(cut, "wb") as f:
            f.write(good[:len(good) // 2])
        p = vc(exe, "replay", cut, "--backend", daemon)
        tap.ok(p.returncode == 2 and re.search(r"frame \d+: ", p.stderr)
               and len(p.stderr.strip().splitlines()) == 1,
               "a truncated trace: exit 2 before anything is sent, naming the frame", out_of(p))
        p = vc(exe, "replay", os.path.join(d, "absent.pcap"), "--backend", daemon)
        tap.ok(p.returncode == 2, "a missing trace: exit 2", out_of(p))
        p = vc(exe, "replay", t)
        tap.ok(p.returncode == 2, "no daemon given: exit 2", out_of(p))
        p = vc(exe, "replay", t, "--backend", os.path.join(d, "no-such-daemon"))
        tap.ok(p.returncode == 99, "a daemon that cannot be started: exit 99", out_of(p))
    return tap.done()


# --- record ---------------------------------------------------------------------------------

class FakeDaemon(threading.Thread):
    """A minimal vhost-user back end that asks something on the back-end channel.

    When it receives SET_BACKEND_REQ_FD it sends back-end request `bch_request`
    (NEED_REPLY set) on the channel and reads the answer, then acks.
    """

    def __init__(self, path, bch_request=2, close_on=None):
        super().__init__(daemon=True)
        self.path = path
        self.bch_request = bch_request
        self.close_on = close_on
        self.answers = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.stopping = False

    def stop(self):
        self.stopping = True
        self.join(timeout=5)
        self.sock.close()

    @staticmethod
    def recv_msg(s):
        hdr, fds, _, _ = socket.recv_fds(s, 12, 16)
        if len(hdr) < 12:
            for fd in fds:
                os.close(fd)
            return None
        req, flags, size = struct.unpack("<III", hdr)
        body = b""
        while len(body) < size:
            chunk = s.recv(size - len(body))
            if not chunk:
                return None
            body += chunk
        return req, flags, body, fds

    @staticmethod
    def reply(s, req, body):
        s.sendall(struct.pack("<III", req, 0x5, len(body)) + body)

    def run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            c.settimeout(5)
            try:
                self.serve(c)
            except OSError:
                pass
            c.close()

    def serve(self, c):
        bases = {}
        while not self.stopping:
            m = self.recv_msg(c)
            if m is None:
                return
            req, flags, body, fds = m
            need = flags & 0x8
            if req == self.close_on:
                for fd in fds:
                    os.close(fd)
                return
            if req == 1:
                self.reply(c, req, struct.pack("<Q", (1 << 32) | (1 << 30)))
            elif req == 15:
                self.reply(c, req, struct.pack("<Q", (1 << 0) | (1 << 3) | (1 << 5)))
            elif req == 17:
                self.reply(c, req, struct.pack("<Q", 1))
            elif req == 10:
                idx, num = struct.unpack("<II", body)
                bases[idx] = num
                need and self.reply(c, req, struct.pack("<Q", 0))
            elif req == 11:
                idx, _ = struct.unpack("<II", body)
                self.reply(c, req, struct.pack("<II", idx, bases.get(idx, 0)))
            elif req == 21 and fds:
                ch = socket.socket(fileno=os.dup(fds[0]))
                ch.settimeout(5)
                reqs = self.bch_request if isinstance(self.bch_request, list) else [self.bch_request]
                for r in reqs:
                    body = struct.pack("<II", 0, 0) if r in (4, 5) else b""
                    ch.sendall(struct.pack("<III", r, 0x9, len(body)) + body)
                    a = self.recv_msg(ch)
                    self.answers.append(a[:3] if a else None)
                ch.close()
                need and self.reply(c, req, struct.pack("<Q", 0))
            elif need:
                self.reply(c, req, struct.pack("<Q", 0))
            for fd in fds:
                os.close(fd)


def start_proxy(exe, listen, upstream, out, *extra):
    cmd = ([*VALGRIND] if UNDER_VALGRIND else []) + [
        exe, "record", "--listen", listen, "--upstream", upstream, "-o", out, *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + (60 if UNDER_VALGRIND else 10)
    while time.time() < deadline and not os.path.exists(listen):
        time.sleep(0.02)
    return proc


def stop_proxy(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


def mode_record(exe, daemon):
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="vc-traces-") as d:
        ref_sock = os.path.join(d, "ref.sock")
        px_sock = os.path.join(d, "proxy.sock")
        t = os.path.join(d, "proxy.pcap")
        ref = subprocess.Popen([daemon, f"--socket-path={ref_sock}"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 10
            while time.time() < deadline and not os.path.exists(ref_sock):
                time.sleep(0.02)
            px = start_proxy(exe, px_sock, ref_sock, t, "--sessions", "0")
            p = vc(exe, "--format", "tap", "--socket", px_sock, "--device", "rng", "--only",
                   "VU-NEG,VU-VB-01")
            tap.ok(p.returncode == 0, "vhost-conform through the proxy passes against the "
                   "reference", out_of(p))
            rc, _, err = stop_proxy(px)
            tap.ok(rc == 0, "the proxy ends cleanly on SIGTERM", f"exit {rc}\n{err}")
            p, frames = show(exe, t)
            sessions = {f["conn"] for f in frames.values() if f["kind"] in ("F2B", "B2F")}
            kinds = {f["kind"] for f in frames.values()}
            tap.ok(p.returncode == 0 and {"F2B", "B2F", "MARK"} <= kinds and len(sessions) >= 2
                   and all(int(c) % 2 == 0 for c in sessions),
                   f"the proxy recorded both directions of {len(sessions)} sessions", out_of(p))
            p = vc(exe, "replay", t, "--socket", ref_sock)
            tap.ok(p.returncode == 0 and " 0 differences" in p.stdout,
                   "what the proxy recorded replays against the reference", out_of(p))

            # One session: the proxy ends by itself when the front end closes.
            t1 = os.path.join(d, "one.pcap")
            px = start_proxy(exe, px_sock, ref_sock, t1, "--sessions", "1", "-v")
            p = vc(exe, "--format", "tap", "--socket", px_sock, "--device", "rng", "--only",
                   "VU-NEG-01")
            try:
                px.wait(timeout=60)
            except subprocess.TimeoutExpired:
                px.kill()
            err = px.stderr.read()
            tap.ok(px.returncode == 0 and "the front end closed the connection" in err,
                   "with --sessions 1 the proxy ends when the front end closes", err)
        finally:
            ref.terminate()
            ref.wait(timeout=10)

        # The back-end channel is intercepted and recorded too.
        fake_sock = os.path.join(d, "fake.sock")
        fake = FakeDaemon(fake_sock, bch_request=2)
        fake.start()
        t2 = os.path.join(d, "bch.pcap")
        px = start_proxy(exe, px_sock, fake_sock, t2, "--sessions", "0")
        vc(exe, "--format", "tap", "--socket", px_sock, "--device", "rng", "--only", "VU-NEG-01")
        rc, _, err = stop_proxy(px)
        p, frames = show(exe, t2)
        bch = [f for f in frames.values() if f.get("conn") == "1"]
        tap.ok(rc == 0 and any(f["kind"] == "B2F" and
                               f["name"] == "VHOST_USER_BACKEND_CONFIG_CHANGE_MSG" for f in bch)
               and any(f["kind"] == "F2B" and f["reply"] for f in bch),
               "the back-end channel's request and the front end's answer are recorded on "
               "connection 1", out_of(p))
        tap.ok(fake.answers and fake.answers[0] and fake.answers[0][0] == 2
               and fake.answers[0][1] == 0x5,
               "the daemon got the front end's answer through the proxy", fake.answers)
        n = len(fake.answers)
        p = vc(exe, "replay", t2, "--socket", fake_sock)
        tap.ok(p.returncode == 0 and " 0 differences" in p.stdout and len(fake.answers) > n
               and fake.answers[-1] and fake.answers[-1][1] == 0x5,
               "replay serves the back-end channel with the recorded answer", out_of(p))
        fake.stop()
        os.unlink(fake_sock)
        fake2 = FakeDaemon(fake_sock, bch_request=7)
        fake2.start()
        p = vc(exe, "replay", t2, "--socket", fake_sock)
        tap.ok(p.returncode == 1 and "back-end request differs" in p.stdout
               and "BACKEND_SHARED_OBJECT_REMOVE" in p.stdout,
               "a daemon that sends another back-end request is a difference", out_of(p))
        fake2.stop()
        os.unlink(fake_sock)
        fake3 = FakeDaemon(fake_sock, bch_request=[4, 2])
        fake3.start()
        p = vc(exe, "replay", t2, "--socket", fake_sock)
        tap.ok(p.returncode == 0 and " 0 differences" in p.stdout
               and fake3.answers[:1] and fake3.answers[0] and fake3.answers[0][0] == 4,
               "an extra in-band BACKEND_VRING_CALL is acked and is no difference (datapath)",
               out_of(p))
        fake3.stop()
        os.unlink(fake_sock)

        # A daemon that hangs up on a request: consistent when nothing came after it.
        fake4 = FakeDaemon(fake_sock, close_on=17)
        fake4.start()
        t3 = os.path.join(d, "close.pcap")
        px = start_proxy(exe, px_sock, fake_sock, t3, "--sessions", "0")
        vc(exe, "--format", "tap", "--socket", px_sock, "--device", "rng", "--only", "VU-NEG-01")
        stop_proxy(px)
        p = vc(exe, "replay", t3, "--socket", fake_sock)
        tap.ok(p.returncode == 0 and " 0 differences" in p.stdout,
               "a daemon that closes where the recording stops is no difference", out_of(p))
        fake4.stop()
        os.unlink(fake_sock)
        fake5 = FakeDaemon(fake_sock)
        fake5.start()
        p = vc(exe, "replay", t3, "--socket", fake_sock)
        tap.ok(p.returncode == 1 and "unexpected message from the daemon" in p.stdout
               and "GET_QUEUE_NUM reply" in p.stdout,
               "a daemon that answers where the recording has it hang up is a difference",
               out_of(p))
        fake5.stop()

        # Deadlines: no daemon, no front end.
        p = vc(exe, "record", "--listen", px_sock, "--upstream", os.path.join(d, "nobody.sock"),
               "-o", os.path.join(d, "x.pcap"), "--accept-timeout", "200ms")
        tap.ok(p.returncode == 99 and "no front end connected" in p.stderr,
               "no front end within --accept-timeout: exit 99", out_of(p))
        p = vc(exe, "record", "--listen", px_sock)
        tap.ok(p.returncode == 2, "record without --upstream and -o: exit 2", out_of(p))
    return tap.done()


# --- tshark ---------------------------------------------------------------------------------

FIELDS = ["frame.number", "vhost-user.kind", "vhost-user.conn", "vhost-user.name",
          "vhost-user.flags", "vhost-user.size", "vhost-user.vring.index",
          "vhost-user.features", "vhost-user.protocol_features", "vhost-user.nfds_total",
          "vhost-user.mark", "vhost-user.dp.queue", "vhost-user.vring.num",
          "vhost-user.mem.nregions", "vhost-user.config.size", "vhost-user.shmem.nregions"]
KIND_NAMES = {1: "F2B", 2: "B2F", 3: "MARK", 4: "KICK", 5: "CALL", 6: "AVAIL", 7: "USED"}


def tshark(lua, path, *args):
    env = dict(os.environ)
    # A private configuration: no user preference or plugin changes what we test.
    env["WIRESHARK_CONFIG_DIR"] = tempfile.mkdtemp(prefix="vc-ws-")
    try:
        return subprocess.run(["tshark", "-X", f"lua_script:{lua}", "-r", path, *args],
                              capture_output=True, text=True, timeout=120, env=env)
    finally:
        shutil.rmtree(env["WIRESHARK_CONFIG_DIR"], ignore_errors=True)


def tshark_fields(lua, path):
    args = ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in FIELDS:
        args += ["-e", f]
    p = tshark(lua, path, *args)
    rows = {}
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) == len(FIELDS) and cols[0].isdigit():
            rows[int(cols[0])] = dict(zip(FIELDS, cols))
    return p, rows


def payload_value(frame, key):
    for line in frame.get("lines", []):
        m = re.search(r"(?:^| )" + key + r"=(0x[0-9a-f]+|\d+)", line)
        if m:
            return int(m.group(1), 0)
    return None


def compare(tap, exe, lua, path, what):
    p, frames = show(exe, path)
    tp, rows = tshark_fields(lua, path)
    tap.ok(tp.returncode == 0 and "Lua" not in tp.stderr and len(rows) == len(frames) > 0,
           f"{what}: tshark decodes all {len(frames)} frames with the dissector",
           f"{out_of(tp)}\nshow:\n{p.stdout[-500:]}")
    bad = []
    for n, f in frames.items():
        r = rows.get(n)
        if r is None:
            bad.append(f"frame {n}: missing")
            continue
        if KIND_NAMES.get(int(r["vhost-user.kind"] or 0)) != f["kind"]:
            bad.append(f"frame {n}: kind {r['vhost-user.kind']} vs {f['kind']}")
        conn = r["vhost-user.conn"]
        if (f["conn"] == "-" and conn != "4294967295") or (f["conn"] != "-" and conn != f["conn"]):
            bad.append(f"frame {n}: conn {conn} vs {f['conn']}")
        if f["kind"] in ("F2B", "B2F") and "name" not in f:
            if r["vhost-user.name"]:
                bad.append(f"frame {n}: tshark names a message shorter than a header")
        elif f["kind"] in ("F2B", "B2F"):
            if r["vhost-user.name"] != f["name"]:
                bad.append(f"frame {n}: name {r['vhost-user.name']} vs {f['name']}")
            if int(r["vhost-user.flags"] or "0", 16) != f["flags"]:
                bad.append(f"frame {n}: flags {r['vhost-user.flags']} vs {f['flags']:#x}")
            if int(r["vhost-user.size"] or -1) != f["size"]:
                bad.append(f"frame {n}: size {r['vhost-user.size']} vs {f['size']}")
            for key, field in (("index", "vhost-user.vring.index"), ("num", "vhost-user.vring.num"),
                               ("features", "vhost-user.features"),
                               ("protocol_features", "vhost-user.protocol_features"),
                               ("nregions", "vhost-user.mem.nregions"
                                if "SHMEM" not in f["name"] else "vhost-user.shmem.nregions")):
                v = payload_value(f, key)
                if v is not None and (not r[field] or int(r[field], 0) != v):
                    bad.append(f"frame {n}: {key} {r[field]!r} vs {v}")
            m = re.search(r"(\d+) fds?:", f["rest"])
            if m and int(r["vhost-user.nfds_total"] or 0) != int(m.group(1)):
                bad.append(f"frame {n}: fds {r['vhost-user.nfds_total']} vs {m.group(1)}")
    tap.ok(not bad, f"{what}: kind, connection, name, flags, size, ring index, features and "
           "fds agree with trace show on every frame", "\n".join(bad[:20]))
    return frames, rows


def mode_tshark(exe, daemon, synth, lua):
    if not shutil.which("tshark"):
        print("1..0 # SKIP tshark is not installed", flush=True)
        return 0
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="vc-traces-") as d:
        s = os.path.join(d, "synth.pcap")
        p = subprocess.run([synth, s], capture_output=True, text=True, timeout=60)
        tap.ok(p.returncode == 0, "trace-synth writes every request", out_of(p))
        frames, rows = compare(tap, exe, lua, s, "every request")
        names = {r["vhost-user.name"] for r in rows.values() if r["vhost-user.name"]}
        main = {n for n in names if n.startswith("VHOST_USER_") and "BACKEND_" not in n
                or n == "VHOST_USER_SET_BACKEND_REQ_FD"}
        backend = {n for n in names if n.startswith("VHOST_USER_BACKEND_")}
        tap.ok(len(main) == 44 and len(backend) == 10 and "UNKNOWN" in names,
               f"the dissector names all 44 front-end and 10 back-end requests "
               f"({len(main)}, {len(backend)}) and calls other ids UNKNOWN", sorted(names))
        v = tshark(lua, s, "-V")
        tap.ok(v.returncode == 0 and "Lua Error" not in v.stdout + v.stderr
               and "Dissector bug" not in v.stdout,
               "the full decoding (-V) has no Lua error", out_of(v))
        tap.ok("Shmid" in v.stdout and "Inflight mmap size" in v.stdout
               and "Config size" in v.stdout and "IOVA" in v.stdout and "UUID" in v.stdout
               and "Log mmap size" in v.stdout and "Direction" in v.stdout
               and "Area size" in v.stdout and "Region size" in v.stdout,
               "every payload layout is decoded field by field", v.stdout[-2000:])

        t = os.path.join(d, "run.pcap")
        p = record_run(exe, daemon, t, only="VU-NEG,VU-VB-01")
        tap.ok(p.returncode == 0, "a run recorded against the reference", out_of(p))
        frames, rows = compare(tap, exe, lua, t, "a real run")
        feats = [(rows[n], payload_value(f, "features")) for n, f in frames.items()
                 if f.get("name") == "VHOST_USER_GET_FEATURES" and f["reply"]]
        mask = int(feats[0][0]["vhost-user.features"], 16) if feats else 0
        tap.ok(feats and mask == feats[0][1] and mask & 0x140000000 == 0x140000000,
               f"tshark shows the reference's feature mask ({mask:#x}: VERSION_1, "
               "PROTOCOL_FEATURES and the rest as trace show has it)", feats[:1])
        nums = [rows[n] for n, f in frames.items()
                if f.get("name") == "VHOST_USER_SET_VRING_NUM" and not f["reply"]]
        tap.ok(nums and nums[0]["vhost-user.vring.index"] == "0"
               and nums[0]["vhost-user.vring.num"] == "256",
               "tshark shows SET_VRING_NUM index 0 num 256", nums[:1])
        fl = tshark(lua, t, "-Y", "vhost-user.name == \"VHOST_USER_SET_BACKEND_REQ_FD\" && "
                    "vhost-user.fd.kind == 3 && vhost-user.flags.need_reply == 1")
        tap.ok(fl.returncode == 0 and fl.stdout.strip(),
               "display filters work on names, fd kinds and flag bits", out_of(fl))
    return tap.done()


# --- samples --------------------------------------------------------------------------------

def load_manifest(samples):
    """samples/MANIFEST: 'file.pcap<TAB>needs<TAB>replay arguments<TAB>cleanup' lines.

    needs: comma-separated programs (and "root"); replay arguments: shell words, with
    {srcdir} replaced by a fresh empty directory; cleanup: a path removed afterwards, or -.
    """
    rows = []
    with open(os.path.join(samples, "MANIFEST"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            name, needs, args, cleanup = line.split("\t")
            rows.append((name, needs.split(","), shlex.split(args), cleanup))
    return rows


def mode_samples(exe, samples):
    if not os.path.exists(os.path.join(samples, "MANIFEST")):
        print("1..0 # SKIP no samples/MANIFEST", flush=True)
        return 0
    tap = Tap()
    rows = load_manifest(samples)
    for name, needs, args, cleanup in rows:
        path = os.path.join(samples, name)
        missing = [n for n in needs if n != "root" and not shutil.which(n)
                   and not os.path.exists(n)]
        if "root" in needs and os.geteuid() != 0:
            tap.skip(f"{name} replays against its daemon", "needs root")
            continue
        if missing:
            tap.skip(f"{name} replays against its daemon", f"{', '.join(missing)} not installed")
            continue
        p = vc(exe, "trace", "show", path)
        tap.ok(p.returncode == 0, f"{name} decodes", out_of(p))
        src = tempfile.mkdtemp(prefix="vc-sample-")
        try:
            argv = [a.replace("{srcdir}", src) for a in args]
            p = vc(exe, "replay", path, "--start-timeout", "30s", *argv, timeout=TIMEOUT + 120)
        finally:
            shutil.rmtree(src, ignore_errors=True)
            if cleanup != "-":
                shutil.rmtree(cleanup, ignore_errors=True)
        tap.ok(p.returncode == 0 and " 0 differences" in p.stdout,
               f"{name} replays against its daemon with no difference", out_of(p))
        if name == "qsd-blk-realize.pcap":
            # The same daemon exporting one queue instead of two answers differently.
            argv = [a.replace("num-queues=2", "num-queues=1") for a in args]
            p = vc(exe, "replay", path, "--start-timeout", "30s", *argv, timeout=TIMEOUT + 120)
            tap.ok(p.returncode == 1 and "reply to VHOST_USER_GET_QUEUE_NUM" in p.stdout
                   and "reply to VHOST_USER_GET_CONFIG" in p.stdout,
                   f"{name} against a daemon with one queue: GET_QUEUE_NUM and GET_CONFIG "
                   "differ", out_of(p))
    return tap.done()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "cli" and len(sys.argv) == 4:
        return mode_cli(sys.argv[2], sys.argv[3])
    if mode == "replay" and len(sys.argv) == 4:
        return mode_replay(sys.argv[2], sys.argv[3])
    if mode == "record" and len(sys.argv) == 4:
        return mode_record(sys.argv[2], sys.argv[3])
    if mode == "tshark" and len(sys.argv) == 6:
        return mode_tshark(*sys.argv[2:6])
    if mode == "samples" and len(sys.argv) == 4:
        return mode_samples(sys.argv[2], sys.argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
