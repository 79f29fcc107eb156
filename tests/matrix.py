#!/usr/bin/env python3
"""The third-party matrix: vhost-conform against the real daemons of the launch recipes.

Prints TAP 13 (meson protocol 'tap'). Modes:

  run VHOST_CONFORM RECIPE EXPECTED [HARNESS OPTIONS...]
      Runs every check (every area of the catalog) against the recipe's daemon
      and compares each verdict with EXPECTED (tests/matrix/RECIPE.expected):
      a FAIL, WARN or ERROR must be recorded there, with the evidence in a
      comment, and a recorded one must still happen, so a change either way
      shows. PASS and SKIP are not recorded. Then checks that the daemons
      were stopped and their sockets and temporary files removed. Writes the
      daemon x area table (pass, fail, warn, skip) to MATRIX_DIR/RECIPE.md
      when MATRIX_DIR is set. Exits 77 (skip) when the daemon cannot run
      here (package missing, not root).

  interrupt VHOST_CONFORM RECIPE SIGNAL
      Starts a run, interrupts vhost-conform with SIGNAL (INT or TERM) while
      the daemon runs, and checks that the daemon is gone and nothing of the
      run is left in /tmp.

EXPECTED lines: "RULE-ID [RING] VERDICT" (RING: split or packed, default
split), comments start with '#'.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import Tap  # noqa: E402

RUN_TIMEOUT = 1500


def private_tmp():
    """A TMPDIR of the run's own: the daemons' sockets and files all live under it."""
    return tempfile.mkdtemp(prefix="vc-matrix-")


def leftovers(tmp, harness_pid):
    """What a run left: files under its TMPDIR, DPDK runtime dirs named after the harness."""
    left = []
    for root, dirs, files in os.walk(tmp):
        left += [os.path.join(root, x) for x in dirs + files]
    left += glob.glob(f"/var/run/dpdk/vc{harness_pid}-*")
    return left


def daemon_pids(tmp):
    """Processes still running whose command line names the run's TMPDIR (a socket in it)."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    pids = set()
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        if tmp in args and "vhost-conform" not in args.split(" ", 1)[0]:
            pids.add(int(pid))
    return pids


def run_env(tmp):
    env = dict(os.environ)
    env["TMPDIR"] = tmp
    # meson gives every test a random MALLOC_PERTURB_; the daemons inherit it, and a field
    # a daemon leaves uninitialised (vhost-user-gpu's UPDATE flags) would then differ from
    # run to run. A fixed value makes such a bug show every time.
    env["MALLOC_PERTURB_"] = "85"
    return env


def read_expected(path):
    exp = {}
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if len(words) == 2:
                words.insert(1, "split")
            if len(words) != 3 or words[2] not in ("FAIL", "WARN", "ERROR"):
                raise SystemExit(f"{path}:{no}: want 'RULE-ID [RING] FAIL|WARN|ERROR'")
            exp[(words[0], words[1])] = words[2]
    return exp


def cannot_run_here(p):
    """vhost-conform says 99 and why when a recipe's program or root is missing."""
    return p.returncode == 99 and ("not installed" in p.stderr or "needs root" in p.stderr
                                   or "package" in p.stderr)


def mode_run(exe, recipe, expected, *extra):
    tap = Tap(detail_lines=12)
    exp = read_expected(expected)
    tmp = private_tmp()
    with tempfile.TemporaryDirectory(prefix="vc-matrix-report-") as d:
        js = os.path.join(d, "r.json")
        t0 = time.monotonic()
        proc = subprocess.Popen([exe, "--format", "tap", "--json", js, *extra,
                                 "--backend", recipe], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=run_env(tmp))
        try:
            out, err = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        p = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        seconds = time.monotonic() - t0
        if cannot_run_here(p):
            print(f"1..0 # SKIP {p.stderr.strip()}", flush=True)
            os.rmdir(tmp)
            return 77
        report = None
        if os.path.exists(js):
            with open(js, encoding="utf-8") as f:
                report = json.load(f)
    results = (report or {}).get("results", [])
    tap.plan(len(results) + 4)
    tap.result(report is not None and p.returncode in (0, 1),
               f"vhost-conform ran against {recipe} (exit {p.returncode}, {seconds:.0f} s)",
               p.stderr)
    seen = set()
    areas = {}
    catalog = json.loads(subprocess.run([exe, "--list", "--format", "json"],
                                        capture_output=True, text=True, check=True).stdout)
    area_of = {c["id"]: c["area"] for c in catalog}
    for r in results:
        ring = r.get("ring") or "split"
        key = (r["id"], ring)
        seen.add(key)
        want = exp.get(key)
        got = r["verdict"]
        a = areas.setdefault(area_of.get(r["id"], "?"), {"PASS": 0, "FAIL": 0, "WARN": 0,
                                                          "SKIP": 0, "ERROR": 0})
        a[got] += 1
        if want:
            ok = got == want
            text = f"{r['id']} [{ring}] is still {want} against {recipe} (got {got})"
        else:
            ok = got in ("PASS", "SKIP")
            text = f"{r['id']} [{ring}] {got} against {recipe}"
        tap.result(ok, text, f"{r['reason']}\nrecord it in {expected} with its evidence, "
                   "or fix the check" if not ok and not want else r["reason"])
    stale = [k for k in exp if k not in seen]
    tap.result(not stale, f"every verdict recorded in {os.path.basename(expected)} was seen",
               "\n".join(f"{i} [{r}] no longer ran" for i, r in stale))
    # The run's daemons are stopped and their files removed.
    time.sleep(0.5)
    left = leftovers(tmp, proc.pid)
    alive = daemon_pids(tmp)
    tap.result(not left, "no socket or temporary file of the run is left", "\n".join(sorted(left)))
    tap.result(not alive, "no daemon of the run is left running",
               "\n".join(str(x) for x in sorted(alive)))
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    subprocess.run(["rm", "-rf", tmp], check=False)
    table = [f"| {recipe} | area | pass | fail | warn | skip | error |",
             "|---|---|---|---|---|---|---|"]
    for name in sorted(areas):
        c = areas[name]
        table.append(f"| | {name} | {c['PASS']} | {c['FAIL']} | {c['WARN']} | {c['SKIP']} | "
                     f"{c['ERROR']} |")
    tot = {k: sum(c[k] for c in areas.values()) for k in ("PASS", "FAIL", "WARN", "SKIP", "ERROR")}
    table.append(f"| | **all** | {tot['PASS']} | {tot['FAIL']} | {tot['WARN']} | {tot['SKIP']} | "
                 f"{tot['ERROR']} |")
    tap.note("\n".join(table))
    out_dir = os.environ.get("MATRIX_DIR")
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, f"{recipe}.md"), "w", encoding="utf-8") as f:
            f.write("\n".join(table) + "\n")
    return 1 if tap.failed else 0


def mode_interrupt(exe, recipe, signame):
    tap = Tap(detail_lines=12)
    sig = {"INT": signal.SIGINT, "TERM": signal.SIGTERM}[signame]
    tmp = private_tmp()
    # Long enough to be caught in the middle: the whole catalog.
    proc = subprocess.Popen([exe, "--format", "tap", "--backend", recipe],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=run_env(tmp))
    started = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        started = daemon_pids(tmp)
        if started:
            break
        time.sleep(0.1)
    if proc.poll() is not None:
        out, err = proc.communicate()
        if cannot_run_here(subprocess.CompletedProcess(proc.args, proc.returncode, out, err)):
            print(f"1..0 # SKIP {err.strip()}", flush=True)
            subprocess.run(["rm", "-rf", tmp], check=False)
            return 77
    tap.plan(4)
    tap.result(bool(started), f"the {recipe} daemon was started", "no daemon appeared in 60 s")
    time.sleep(1.0)
    proc.send_signal(sig)
    try:
        proc.communicate(timeout=30)
        ended = True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        ended = False
    tap.result(ended, f"vhost-conform ended within 30 s of SIG{signame}")
    time.sleep(1.0)
    alive = daemon_pids(tmp)
    tap.result(not alive, f"the daemon is gone after SIG{signame} to vhost-conform",
               " ".join(str(x) for x in alive))
    left = leftovers(tmp, proc.pid)
    tap.result(not left, "its socket and temporary files are removed", "\n".join(sorted(left)))
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    subprocess.run(["rm", "-rf", tmp], check=False)
    return 1 if tap.failed else 0


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    mode, exe, recipe, arg, *extra = sys.argv[1:]
    if mode == "run":
        return mode_run(exe, recipe, arg, *extra)
    if mode == "interrupt":
        return mode_interrupt(exe, recipe, arg)
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
