"""What the call-counting benchmarks share (``stdio_calls.py``, ``http_client_calls.py``): a
profile hook that counts Python calls and built-in calls by function in the process it runs
in, and the arithmetic that turns an N-call run and a 2N-call run into the cost of one call."""
import collections

# The hook's source, run in the counted process after ``OUT`` (the JSON file to write) is
# set; ``dump()`` writes the counts (the process registers it at exit, or calls it itself).
COUNTING_HOOK = r'''
import atexit, collections, json, os, sys, threading
counts = collections.Counter()
def hook(frame, event, arg):
    if event == "call":
        code = frame.f_code
        counts[("py", os.path.basename(code.co_filename), code.co_firstlineno, code.co_name)] += 1
    elif event == "c_call":
        counts[("c", "", 0, getattr(arg, "__qualname__", None) or getattr(arg, "__name__", "?"))] += 1
def dump():
    sys.setprofile(None)
    threading.setprofile(None)
    with open(OUT, "w") as f:
        json.dump({"counts": [list(k) + [v] for k, v in counts.items()]}, f)
'''


def per_call(small, large, n):
    """(counts by function per call, Python calls per call, built-in calls per call) from the
    dumps of an ``n``-call run and a ``2n``-call one: start-up and shutdown cancel out."""
    per = collections.Counter()
    for row in large["counts"]:
        per[tuple(row[:4])] += row[4]
    for row in small["counts"]:
        per[tuple(row[:4])] -= row[4]
    per = collections.Counter({k: v / n for k, v in per.items() if abs(v / n) >= 0.01})
    py = sum(v for k, v in per.items() if k[0] == "py")
    c = sum(v for k, v in per.items() if k[0] == "c")
    return per, py, c


def print_costliest(per, top):
    """The ``top`` functions with the most calls per call, one line each."""
    for key, v in sorted(per.items(), key=lambda kv: -kv[1])[:top]:
        kind, filename, line, func = key
        where = "%s:%d" % (filename, line) if kind == "py" else "(built-in)"
        print("  %6.2f  %-28s %s" % (v, where, func))
