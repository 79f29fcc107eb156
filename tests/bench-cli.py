#!/usr/bin/env python3
"""bench-cli.py VHOST_CONFORM VHOST_USER_RNG_REF: the bench command line, TAP on stdout.

What is checked never depends on a measured speed: exit codes (usage 2, a
machine without hugepages 77, a regression 1), that --json and --svg are
well formed and say what was asked, and that --baseline compares. The runs
are short (0.2 s) against the reference rng daemon in its null mode.
"""
import json
import os
import subprocess
import sys
import tempfile
import xml.dom.minidom

conform, rng = sys.argv[1], sys.argv[2]
results = []


def ok(cond, name, detail=''):
    results.append((bool(cond), name, detail))


def bench(*args, timeout=60):
    p = subprocess.run([conform, 'bench', *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def hugepages_free():
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('HugePages_Free:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


short = ['--duration', '0.2', '--warmup', '0', '--quiet']

with tempfile.TemporaryDirectory() as tmp:
    # Usage errors: exit 2 and one line that names the problem.
    for args, what in ((['--backend', rng, '--', '--ring-size', '300'], 'power of two'),
                       (['--backend', rng, '--', '--notify', 'often'], 'often'),
                       (['--ring-size', '256'], '--backend'),
                       (['--backend', rng, '--', '--depth', '512'], 'above --ring-size'),
                       (['--backend', rng, '--', '--vs', 'qemu'], '--vs')):
        code, out, err = bench(*args)
        ok(code == 2 and what in err and err.count('\n') == 1,
           'usage error %s: exit 2, one line' % ' '.join(args[2:] or args), repr((code, err)))

    # --hugepages with none free: exit 77 and one line saying how to reserve them.
    if hugepages_free() == 0:
        code, out, err = bench('--backend', rng, '--null', '--', '--hugepages', *short)
        ok(code == 77 and 'nr_hugepages' in err and err.count('\n') == 1,
           '--hugepages without reserved pages: exit 77, one line', repr((code, err)))
    else:
        results.append((True, '--hugepages without reserved pages # SKIP this machine has some',
                        ''))

    # A measured run: JSON and SVG well formed, one result per case asked for.
    js, svg = os.path.join(tmp, 'r.json'), os.path.join(tmp, 's.svg')
    code, out, err = bench('--backend', rng, '--null', '--', '--notify', 'eventfd,poll',
                           '--batch', '8,32', '--json', js, '--svg', svg, *short)
    ok(code == 0, 'rng null run exits 0', err)
    try:
        with open(js) as f:
            doc = json.load(f)
        res = doc['results']
        ok(doc['tool'] == 'vhost-conform bench' and len(res) == 4,
           'JSON: a bench report with 4 results', str(doc)[:200])
        ok(all(r['error'] is None and r['requests'] > 0 and r['unit'] == 'req/s' and
               r['latency_ns']['p50'] <= r['latency_ns']['p99'] <= r['latency_ns']['p99.9']
               for r in res), 'JSON: every case measured, percentiles ordered', str(res)[:300])
        ok(sorted((r['notify'], r['batch']) for r in res) ==
           [('eventfd', 8), ('eventfd', 32), ('poll', 8), ('poll', 32)],
           'JSON: the cases asked for')
    except (OSError, ValueError, KeyError, TypeError) as e:
        ok(False, 'JSON: readable', repr(e))
    try:
        dom = xml.dom.minidom.parse(svg)
        ok(dom.documentElement.tagName == 'svg' and
           len(dom.getElementsByTagName('rect')) == 1 + 4, 'SVG: well formed, one bar per case')
    except Exception as e:  # noqa: BLE001 - any parse failure is the finding
        ok(False, 'SVG: well formed', repr(e))

    # --baseline: the run against itself with full tolerance passes; against a baseline
    # that no machine reaches it regresses (exit 1); a conformance report is refused.
    code, out, err = bench('--backend', rng, '--null', '--', '--notify', 'poll', '--batch', '32',
                           '--baseline', js, '--max-regress', '100', *short)
    ok(code == 0 and '0 regression(s)' in out, '--baseline, tolerance 100 %: exit 0', out + err)
    try:
        with open(js) as f:
            doc = json.load(f)
        for r in doc['results']:
            r['rate'] = 1e15
        fast = os.path.join(tmp, 'fast.json')
        with open(fast, 'w') as f:
            json.dump(doc, f)
        code, out, err = bench('--backend', rng, '--null', '--', '--notify', 'poll', '--batch',
                               '32', '--baseline', fast, '--max-regress', '10', *short)
        ok(code == 1 and 'REGRESSION rng read split' in out, '--baseline regression: exit 1',
           out + err)
        conf = os.path.join(tmp, 'conf.json')
        with open(conf, 'w') as f:
            json.dump({'tool': 'vhost-conform', 'results': []}, f)
        code, out, err = bench('--backend', rng, '--null', '--', '--baseline', conf, *short)
        ok(code == 2 and 'conformance report' in err, '--baseline refuses a conformance report',
           err)
    except (OSError, ValueError) as e:
        ok(False, '--baseline', repr(e))

print('TAP version 13')
print('1..%d' % len(results))
for i, (good, name, detail) in enumerate(results, 1):
    print('%s %d - %s' % ('ok' if good else 'not ok', i, name))
    if not good and detail:
        for line in str(detail).splitlines()[:20]:
            print('# ' + line)
