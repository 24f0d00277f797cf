"""Tiny scenario runner shared by the client scripts: run each scenario,
print PASS/FAIL with the exception, exit 1 if any failed."""
import os, sys, time, traceback, uuid

BOOTSTRAP = os.environ.get("SKIFF_BOOTSTRAP", "localhost:9092")
RESULTS = []


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def scenario(name):
    def deco(fn):
        RESULTS.append((name, fn))
        return fn
    return deco


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run():
    only = sys.argv[1:]
    failed = []
    for name, fn in RESULTS:
        if only and name not in only:
            continue
        t = time.time()
        try:
            fn()
            print(f"PASS {name} ({time.time()-t:.1f}s)", flush=True)
        except Exception as e:  # noqa
            failed.append(name)
            print(f"FAIL {name} ({time.time()-t:.1f}s): {type(e).__name__}: {e}", flush=True)
            if os.environ.get("VERBOSE"):
                traceback.print_exc()
    sys.exit(1 if failed else 0)
