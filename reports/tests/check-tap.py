#!/usr/bin/env python3
# Reads a TAP file the way the consumers of vhost-conform's TAP do, and
# prints what they saw, one line per event, for test-report.c to compare.
#
#   check-tap.py meson FILE  -- meson's own TAPParser: results, errors, junk
#   check-tap.py yaml FILE   -- every YAML block, loaded by PyYAML, as JSON
#
# Exits 77 when the module it needs is missing (the caller then skips).
import json
import sys


def meson(path):
    try:
        from mesonbuild.mtest import TAPParser
    except ImportError:
        sys.exit(77)
    with open(path, encoding='utf-8', errors='strict') as f:
        for ev in TAPParser().parse(f):
            kind = type(ev).__name__
            if kind == 'Test':
                print(f'{ev.result.name} {ev.number} {ev.explanation or "-"}')
            elif kind in ('Error', 'UnknownLine', 'Bailout'):
                print(f'{kind.upper()} {ev}')
            elif kind == 'Plan':
                print(f'PLAN {ev.num_tests}')


def yaml_blocks(path):
    try:
        import yaml
    except ImportError:
        sys.exit(77)
    block = None
    with open(path, encoding='utf-8', errors='strict') as f:
        for line in f:
            line = line.rstrip('\n')
            if block is None and line == '  ---':
                block = []
            elif block is not None and line == '  ...':
                print(json.dumps(yaml.safe_load('\n'.join(block)), sort_keys=True))
                block = None
            elif block is not None:
                block.append(line)


if __name__ == '__main__':
    {'meson': meson, 'yaml': yaml_blocks}[sys.argv[1]](sys.argv[2])
