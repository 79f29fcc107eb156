#!/usr/bin/env python3
"""Integration tests: vhost-conform against the reference daemon and its mutants.

Prints TAP 13 (meson protocol 'tap'). Modes:

  reference VHOST_CONFORM rng=PATH,blk=PATH,... [HARNESS OPTIONS]
                                      no reference daemon gets a FAIL, WARN or
                                      ERROR, and every check PASSes against one
                                      (an entry named in VARIANTS, e.g.
                                      blk-file=PATH, runs a device's reference
                                      with the daemon arguments given there)
  packed    VHOST_CONFORM rng=PATH,... the reference mode on packed rings (--ring
                                      packed, qemu-7.2, the datapath checks): no
                                      FAIL, WARN, ERROR or SKIP for want of a
                                      working ring that split does not also give
  mutants   VHOST_CONFORM rng=PATH,blk=PATH,...
                                      every check FAILs (MUST) or WARNs (SHOULD,
                                      MAY) against the mutant that breaks its
                                      rule, on the reference daemon it belongs to
                                      (on a packed ring when the check needs one, under
                                      the profile its catalog entry names)
  catalog   VHOST_CONFORM CATALOG.md  the committed catalog is what --list prints
  cli       VHOST_CONFORM DAEMON      command-line errors, exit codes, reports

With VC_VALGRIND=1 in the environment (the 'valgrind' test setup), every
vhost-conform run goes through valgrind and a valgrind error fails the test.
"""

import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import Tap  # noqa: E402

VALGRIND = ["valgrind", "--quiet", "--error-exitcode=3", "--leak-check=full",
            "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite,indirect",
            "--trace-children=no", "--child-silent-after-fork=yes"]
UNDER_VALGRIND = os.environ.get("VC_VALGRIND") == "1"
RUN_TIMEOUT = 900 if UNDER_VALGRIND else 240


def conform(exe, *args, timeout=RUN_TIMEOUT):
    cmd = ([*VALGRIND] if UNDER_VALGRIND else []) + [exe, *args]
    env = dict(os.environ)
    if UNDER_VALGRIND:
        env["VC_UNDER_VALGRIND"] = "1"
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def catalog(exe, device=None):
    """The checks of the catalog; with @device, only those that apply to it."""
    p = subprocess.run([exe, "--list", "--format", "json"], capture_output=True, text=True,
                       timeout=60, check=True)
    return [c for c in json.loads(p.stdout)
            if device is None or c.get("device") in (None, device)]


def run_json(exe, args):
    with tempfile.TemporaryDirectory(prefix="vc-test-") as d:
        path = os.path.join(d, "report.json")
        p = conform(exe, "--format", "tap", "--json", path, *args)
        report = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                report = json.load(f)
        return p, report


# Options a reference daemon needs from the harness (the blk reference grows its disk on
# SIGUSR1, which the config-change checks use).
DAEMON_OPTS = {"blk": ["--host-event-signal", "SIGUSR1"]}

# Reference variants: a daemon-list entry named here runs the reference of its device with
# these daemon arguments ({tmpdir}: the daemon's private temporary directory), under one
# profile and only for the checks selected (the full catalog runs on the plain entry).
# blk-file: a disk image the daemon creates, which VIO-BLK-006 reads back (blk.c looks for
# {tmpdir}/disk.img); blk-ro: a read-only disk (VIO-BLK-020).
VARIANTS = {
    "blk-file": ("blk", ["--blk-file={tmpdir}/disk.img"], "VIO-BLK"),
    "blk-ro": ("blk", ["--read-only"], "VIO-BLK"),
}


def variant(entry):
    """(device, daemon arguments, --only selection or None) of a daemon-list entry."""
    return VARIANTS.get(entry, (entry, [], None))


# Arguments a reference daemon needs on its own command line, after its path and before any
# --mutant= (the fs reference serves the directory the fs checks look at; the harness
# expands {tmpdir} to the daemon's private temporary directory).
DAEMON_ARGS = {"fs": ["--shared-dir={tmpdir}/shared"]}

# VIRTIO_F_RING_PACKED: a check that needs it runs with --ring packed (it SKIPs on split).
RING_PACKED = 1 << 34


def needs_packed(c):
    return bool(c.get("needs_features", 0) & RING_PACKED)


def profile_args(c):
    """--profile PROFILE for a check whose catalog entry names the front-end profile that
    negotiates what it needs (VU-SHM-*: SHMEM, which only qemu-11.1 knows)."""
    return ["--profile", c["profile"]] if c.get("profile") else []


def parse_daemons(spec):
    """'rng=PATH,blk=PATH,...' -> {"rng": PATH, ...}"""
    out = {}
    for part in spec.split(","):
        dev, _, path = part.partition("=")
        out[dev] = path
    return out


def mutant_target(c, daemons):
    """The reference daemon and the mutant name that prove check @c.

    A "blk:NAME" mutant runs on the blk reference; an unprefixed one on the
    reference of the check's device, or the rng reference for checks of any
    device."""
    name = c.get("mutant") or ""
    dev, sep, rest = name.partition(":")
    if sep and dev in ("rng", "blk", "net", "fs", "gpu"):
        return dev, rest
    return c.get("device") or "rng", name


def mode_reference(exe, spec, *extra):
    """Every reference daemon passes every check that applies to it, and every check of
    the catalog PASSes against at least one of them."""
    tap = Tap()
    daemons = parse_daemons(spec)
    checks = catalog(exe)
    passed = {}
    runs = []
    # QEMU 7.2 is the default front end; QEMU 10 knows the protocol features added since
    # (DEVICE_STATE, SHARED_OBJECT...), so that their checks run too.
    for entry, path in daemons.items():
        dev, vargs, only = variant(entry)
        sel = ["--only", only] if only else []
        for prof in ("qemu-7.2",) if only else ("qemu-7.2", "qemu-10"):
            p, report = run_json(exe, [*extra, *sel, "--profile", prof,
                                       *DAEMON_OPTS.get(dev, []), "--backend", path,
                                       *DAEMON_ARGS.get(dev, []), *vargs])
            # Checks that need a packed ring SKIP above: run them once more on one.
            packed = [c["id"] for c in checks if needs_packed(c)]
            if packed and not only and "--ring" not in extra and report is not None:
                pp, rp = run_json(exe, [*extra, "--profile", prof, *DAEMON_OPTS.get(dev, []),
                                        "--ring", "packed", "--only", ",".join(packed),
                                        "--backend", path, *DAEMON_ARGS.get(dev, [])])
                report["results"] = [r for r in report.get("results", [])
                                     if r["id"] not in packed] + (rp or {}).get("results", [])
                if pp.returncode != 0:
                    p = pp
            runs.append((entry, prof, p, report))
    # Checks that name a profile of their own SKIP above: each runs under it on the reference
    # daemon it belongs to (the one its mutant runs on).
    hinted = {}
    for c in checks:
        dev, _ = mutant_target(c, daemons)
        if c.get("profile") and c["profile"] not in ("qemu-7.2", "qemu-10") and dev in daemons:
            hinted.setdefault((dev, c["profile"]), []).append(c["id"])
    for (dev, prof), ids in sorted(hinted.items()):
        p, report = run_json(exe, [*extra, "--profile", prof, "--only", ",".join(ids),
                                   *DAEMON_OPTS.get(dev, []), "--backend", daemons[dev],
                                   *DAEMON_ARGS.get(dev, [])])
        runs.append((dev, prof, p, report))
    tap.plan(len(runs) * 2 + len(checks))
    for dev, prof, p, report in runs:
        opts = f" ({' '.join([*extra, '--profile', prof])})"
        results = (report or {}).get("results", [])
        bad = [r for r in results if r["verdict"] in ("FAIL", "WARN", "ERROR")]
        tap.result(p.returncode == 0 and report is not None and
                   (not UNDER_VALGRIND or p.returncode != 3),
                   f"vhost-conform exits 0 against the {dev} reference{opts} "
                   f"(got {p.returncode})", p.stderr)
        tap.result(not bad, f"no FAIL, WARN or ERROR against the {dev} reference{opts} "
                   f"({len(bad)} found)",
                   "\n".join(f"{r['id']} [{r.get('ring')}] {r['verdict']}: {r['reason']}"
                             for r in bad))
        for r in results:
            if r["verdict"] == "PASS":
                passed.setdefault(r["id"], []).append(dev)
    for c in checks:
        dev, _ = mutant_target(c, daemons)
        ok = c["id"] in passed
        why = ""
        if not ok:
            why = (f"no reference daemon for device '{dev}'" if dev not in daemons
                   else "SKIPped by every reference daemon")
        tap.result(ok, f"{c['id']} PASSes against a reference daemon "
                   f"({', '.join(passed.get(c['id'], [])) or 'none'})", why)
    return tap.failed


def layout_run(exe, dev, path, ring, ids):
    """vhost-conform on @ring (split, packed, both) under qemu-7.2, checks @ids only, against
    the @dev reference at @path. Returns: (process, report or None)."""
    return run_json(exe, ["--ring", ring, "--profile", "qemu-7.2", "--only", ",".join(ids),
                          *DAEMON_OPTS.get(dev, []), "--backend", path,
                          *DAEMON_ARGS.get(dev, [])])


def same_fault(r, s):
    """Whether result @s (may be None) shows the fault of result @r."""
    return s is not None and s["verdict"] == r["verdict"] and \
        (r["verdict"] != "SKIP" or s["reason"] == r["reason"])


def by_ring(report, ring):
    return {r["id"]: r for r in (report or {}).get("results", []) if r.get("ring") == ring}


def mode_packed(exe, spec):
    """The reference mode on packed rings: each reference daemon runs the datapath checks
    that apply to it with --ring packed (the others do not depend on the ring layout and
    the reference mode covers them). A check that FAILs, WARNs, ERRORs or SKIPs for want
    of a working ring ("inconclusive", packed not negotiated) on packed must do the same
    on split: those are rerun with --ring split, and what split does not share is a
    packed-only fault (the reference mode reports the shared ones) when it repeats on
    packed, and not on split, in two more runs of both layouts (a check that misbehaves
    now and then on either layout is no packed-only fault)."""
    tap = Tap()
    daemons = parse_daemons(spec)
    runs = []
    for dev, path in daemons.items():
        ids = [c["id"] for c in catalog(exe, dev) if c["datapath"]]
        p, report = layout_run(exe, dev, path, "packed", ids)
        results = (report or {}).get("results", [])
        odd = {r["id"]: r for r in results
               if r["verdict"] in ("FAIL", "WARN", "ERROR") or
               (r["verdict"] == "SKIP" and (r["reason"].startswith("inconclusive") or
                                            "RING_PACKED" in r["reason"]))}
        split = by_ring(layout_run(exe, dev, path, "split", odd)[1], "split") if odd else {}
        maybe = [i for i, r in odd.items() if not same_fault(r, split.get(i))]
        for _ in range(2):
            if not maybe:
                break
            again = layout_run(exe, dev, path, "both", maybe)[1]
            pk, sp = by_ring(again, "packed"), by_ring(again, "split")
            maybe = [i for i in maybe if same_fault(odd[i], pk.get(i)) and
                     i in sp and not same_fault(odd[i], sp[i])]
        runs.append((dev, p, report, odd, split, maybe))
    tap.plan(len(runs) * 2)
    for dev, p, report, odd, split, maybe in runs:
        results = (report or {}).get("results", [])
        not_packed = [r for r in results if r.get("ring") != "packed"]
        own = [odd[i] for i in maybe]
        shared = [r for i, r in odd.items() if i not in maybe]
        tap.result(report is not None and results and not not_packed and
                   (p.returncode == 0 or shared) and (not UNDER_VALGRIND or p.returncode != 3),
                   f"vhost-conform --ring packed runs against the {dev} reference "
                   f"(exit {p.returncode}, {len(results)} results, {len(not_packed)} not packed)",
                   p.stderr)
        tap.result(not own, f"no FAIL, WARN, ERROR or idle-ring SKIP on packed rings that split "
                   f"does not also give against the {dev} reference ({len(own)} found, "
                   f"{len(shared)} shared with split or not repeatable)",
                   "\n".join(f"{r['id']} {r['verdict']}: {r['reason']} (split: "
                             f"{split[r['id']]['verdict'] if r['id'] in split else 'no result'})"
                             for r in own))
    return tap.failed


def one_mutant(exe, daemons, c):
    dev, name = mutant_target(c, daemons)
    if not name or dev not in daemons:
        return c, dev, name, None, None
    ring = (["--ring", "packed"] if needs_packed(c) else []) + profile_args(c)
    # A check of one device that SKIPs on its plain reference (it needs an image file, a
    # read-only disk) runs again on the variants of that device in the daemon list.
    again = [e for e in daemons if e in VARIANTS and variant(e)[0] == c.get("device") == dev]
    found = None
    for entry in [dev, *again]:
        p, report = run_json(exe, ["--only", c["id"], *ring, *DAEMON_OPTS.get(dev, []),
                                   "--backend", daemons[entry], *DAEMON_ARGS.get(dev, []),
                                   *variant(entry)[1], f"--mutant={name}"])
        r = (report or {}).get("results", [None])[0]
        done = r is not None and r["verdict"] != "SKIP"
        if found is None or done:
            found = (c, entry, name, p, r)
        if done:
            break
    return found


def mode_mutants(exe, spec):
    """Each check FAILs (MUST) or WARNs (SHOULD, MAY) against the mutant that breaks its
    rule, run on the reference daemon the mutant belongs to."""
    tap = Tap()
    daemons = parse_daemons(spec)
    checks = catalog(exe)
    tap.plan(len(checks))
    workers = 1 if UNDER_VALGRIND else 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for c, dev, name, p, r in pool.map(lambda c: one_mutant(exe, daemons, c), checks):
            want = "FAIL" if c["level"] == "MUST" else "WARN"
            if not name:
                tap.result(False, f"{c['id']} has a mutant that proves it", "none in the catalog")
                continue
            if p is None:
                tap.result(False, f"{c['id']} reports mutant {name}: {want}",
                           f"no reference daemon for device '{dev}'")
                continue
            got = r["verdict"] if r else "no result"
            ok = r is not None and got == want and r["id"] == c["id"]
            if UNDER_VALGRIND and p.returncode == 3:
                ok = False
                got += " + valgrind error"
            tap.result(ok, f"{c['id']} reports {dev} mutant {name}: {want} (got {got})",
                       (r or {}).get("reason", "") + "\n" + p.stderr)
    return tap.failed


def mode_catalog(exe, path):
    tap = Tap()
    tap.plan(1)
    p = subprocess.run([exe, "--list", "--format", "md"], capture_output=True, text=True,
                       timeout=60)
    with open(path, encoding="utf-8") as f:
        committed = f.read()
    tap.result(p.returncode == 0 and p.stdout == committed,
               "conformance/CATALOG.md is what 'vhost-conform --list --format md' prints "
               "(regenerate it with that command)",
               "the committed catalog is stale" if p.stdout != committed else p.stderr)
    return tap.failed


def mode_cli(exe, daemon):
    tap = Tap()
    cases = [
        # (args, expected exit, substring expected on stderr, description)
        (["--no-such-flag"], 2, "Unknown option", "an unknown flag is refused"),
        ([], 2, "exactly one of", "no back end given"),
        (["--socket", "/x", "--backend", daemon], 2, "exactly one of", "two back ends given"),
        (["--only", "VU-NOPE-99", "--backend", daemon], 2, "no check has the ID",
         "an unknown check ID is refused"),
        (["--timeout", "-3", "--backend", daemon], 2, "duration", "a negative timeout"),
        (["--profile", "qemu-99", "--backend", daemon], 2, "unknown profile", "unknown profile"),
        (["--ring-size", "3", "--backend", daemon], 2, "power of two", "bad ring size"),
        (["--format", "xml", "--backend", daemon], 2, "--format", "bad format"),
        (["--backend", "/nonexistent/daemon"], 99, "", "a missing program is an ERROR, exit 99"),
        (["--socket", "/nonexistent/sock"], 99, "", "a missing socket is an ERROR, exit 99"),
        (["--only", "VU-HDR-01", "--backend", daemon], 0, "", "one check selected, exit 0"),
        (["--only", "VU-HDR-01", "--backend", daemon, "--mutant=reply-bit-clear"], 1, "",
         "a FAIL gives exit 1"),
        (["--only", "VU-NEG-04", "--backend", daemon, "--mutant=no-mq"], 0, "",
         "a WARN alone gives exit 0"),
        (["--only", "VU-RING", "--device", "scsi", "--backend", daemon], 77, "",
         "every check skipped gives exit 77"),
    ]
    tap.plan(len(cases) + 4)
    for args, code, text, what in cases:
        p = conform(exe, "--format", "tap", *args, timeout=RUN_TIMEOUT)
        ok = p.returncode == code and text in p.stderr
        if code == 2:
            ok = ok and len(p.stderr.strip().splitlines()) == 1
        tap.result(ok, f"{what}: exit {code}", f"exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    # Reports: JUnit and JSON files, TAP on stdout.
    with tempfile.TemporaryDirectory(prefix="vc-test-") as d:
        junit = os.path.join(d, "r.xml")
        js = os.path.join(d, "r.json")
        p = conform(exe, "--format", "tap", "--junit", junit, "--json", js, "--only",
                    "VU-HDR-01,VU-NEG-04", "--backend", daemon, "--mutant=reply-bit-clear")
        tap.result(p.stdout.startswith("TAP version 13\n1..2\n") and "not ok 1 - VU-HDR-01" in
                   p.stdout and "ok 2 - VU-NEG-04" in p.stdout, "TAP on stdout", p.stdout)
        try:
            import xml.etree.ElementTree as ET
            suite = ET.parse(junit).getroot().find("testsuite")
            ok = suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
        except Exception as e:  # noqa: BLE001 - any parse problem is a test failure
            ok, suite = False, e
        tap.result(ok, "JUnit report written", str(suite))
        try:
            with open(js, encoding="utf-8") as f:
                rep = json.load(f)
            ok = [r["verdict"] for r in rep["results"]] == ["FAIL", "PASS"] and \
                rep["exit_code"] == 1
        except Exception as e:  # noqa: BLE001
            ok, rep = False, e
        tap.result(ok, "JSON report written", str(rep))
    # The daemon's own arguments: everything after --backend PROGRAM up to "--".
    p = conform(exe, "--backend", daemon, "--mutant=no-mq", "--", "--format", "tap", "--only",
                "VU-NEG-04")
    tap.result(p.returncode == 0 and "# WARN" in p.stdout,
               "arguments after --backend go to the daemon up to --", p.stdout + p.stderr)
    return tap.failed


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    mode, exe, arg, *extra = sys.argv[1:]
    fn = {"reference": mode_reference, "packed": mode_packed, "mutants": mode_mutants,
          "catalog": mode_catalog, "cli": mode_cli}.get(mode)
    if not fn:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    return 1 if fn(exe, arg, *extra) else 0


if __name__ == "__main__":
    sys.exit(main())
