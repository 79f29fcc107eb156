"""TAP 13 on stdout for the Python test drivers (meson protocol 'tap')."""


class Tap:
    """Numbered results; a failed one prints the tail of its detail as diagnostics."""

    def __init__(self, detail_lines=15):
        self.n = 0
        self.failed = 0
        self.detail_lines = detail_lines
        print("TAP version 13", flush=True)

    def plan(self, n):
        print(f"1..{n}", flush=True)

    def result(self, ok, text, detail=None):
        self.n += 1
        self.failed += not ok
        text = text.replace("#", "(hash)")
        print(f"{'ok' if ok else 'not ok'} {self.n} - {text}", flush=True)
        if detail and not ok:
            for line in str(detail).splitlines()[-self.detail_lines:]:
                print(f"# {line}", flush=True)
        return ok

    def note(self, text):
        for line in text.splitlines():
            print(f"# {line}", flush=True)
