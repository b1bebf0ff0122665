"""Compare one static checker's findings with its checked-in baseline (scripts/static_checks).

    python scripts/static_baseline.py TOOL OUTPUT BASELINE [--update [--allow-growth]]
                                      [--root DIR] [--summary FILE]

TOOL is ``mypy`` (OUTPUT: its plain text output) or ``ruff`` (OUTPUT: ``ruff check
--output-format json``). A finding's key is (file, error code, message) with no line number, so
code can move without touching the baseline; the baseline holds a count per key, and a finding
is new when its key occurs more often than the baseline says. Numbers in a message that change
when code moves or is edited ("defined on line 40", a long line's length) are left out of the
key too. ``--root`` is the directory the
files' paths are made relative to (ruff prints absolute paths); ``--summary`` gets the one-line
summary instead of stdout.

Baseline file: ``#`` comment lines, then one line per key, tab-separated:
``count  file  code  message``, sorted.

Exit status: 0 no new finding (the baseline may be larger than needed: that is said, and
passes), 1 new findings (or, with --update, findings the baseline lacks and no
--allow-growth; or a mypy run that stopped early), 2 output that cannot be read.
"""

import argparse
import collections
import json
import os
import re
import sys

HEADER = """\
# {tool} findings in mcplite/ that CI tolerates. `bash scripts/static_checks` fails on any
# finding beyond these, and this list may only shrink: when it says so, run
# `bash scripts/static_checks --update` and commit the result. Written by that command.
# One line per (file, error code, message), no line numbers, so code can move:
# count<TAB>file<TAB>code<TAB>message
"""

# mypy's lines: "mcplite/x.py:12: error: Message  [code]"; a "note:" belongs to the error above it.
MYPY_LINE = re.compile(r"^(?P<file>.+?):(?:(?P<line>\d+):)?(?:\d+:)? (?P<kind>error|note): (?P<message>.*)$")
MYPY_CODE = re.compile(r"^(?P<message>.*?)  \[(?P<code>[a-z0-9-]+)\]$")
MYPY_SUMMARY = re.compile(r"^(Found \d+ errors? in \d+ files?|Success: no issues found)")


class Unreadable(Exception):
    pass


class Finding:
    def __init__(self, file, line, code, message, text):
        self.file = file
        self.line = line
        self.code = code
        self.message = message
        self.text = text  # what to print: the tool's own line(s), with the line number

    @property
    def key(self):
        return (self.file, self.code, normalize(self.code, self.message))


def normalize(code, message):
    """The message as keyed: without the numbers that change when unrelated code moves."""
    # mypy: 'Name "x" already defined on line 40', '... (see line 12)'.
    message = re.sub(r"\bline \d+\b", "line N", message)
    if code == "E501":  # "Line too long (131 > 120)": the same long line, edited, stays known
        message = re.sub(r" \(\d+ > \d+\)$", "", message)
    return message.replace("\t", " ")


def read_mypy(text, root):
    findings = []
    stopped = False
    seen_summary = False
    for raw in text.splitlines():
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        if "errors prevented further checking" in line:
            stopped = True
        if MYPY_SUMMARY.match(line):
            seen_summary = True
            continue
        match = MYPY_LINE.match(line)
        if not match:
            raise Unreadable("unexpected line in mypy's output: %r" % line)
        if match.group("kind") == "note":
            # A note on a typeshed stub or on the code: part of the finding printed before it.
            if findings:
                findings[-1].text += "\n" + line
            continue
        message = match.group("message")
        code = "-"
        coded = MYPY_CODE.match(message)
        if coded:
            message, code = coded.group("message"), coded.group("code")
        file = relative(match.group("file"), root)
        findings.append(Finding(file, int(match.group("line") or 0), code, message, line))
    if not seen_summary:
        # (Without the closing line the run did not finish: a crash, a bad flag.)
        raise Unreadable("mypy's output has no closing summary line")
    return findings, stopped


def read_ruff(text, root):
    try:
        items = json.loads(text)
    except ValueError as exc:
        raise Unreadable("ruff's output is not JSON: %s" % exc)
    findings = []
    for item in items:
        file = relative(item["filename"], root)
        row = item["location"]["row"]
        column = item["location"]["column"]
        code = item.get("code") or "invalid-syntax"  # (a syntax error has no rule code in older ruffs)
        message = item["message"]
        findings.append(Finding(file, row, code, message, "%s:%s:%s: %s %s" % (file, row, column, code, message)))
    return findings, False


def relative(path, root):
    if root and os.path.isabs(path):
        path = os.path.relpath(path, root)
    return path.replace(os.sep, "/")


def read_baseline(path):
    counts = collections.Counter()
    if not os.path.exists(path):
        return counts, False
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 4 or not parts[0].isdigit():
                raise Unreadable("%s:%d: not 'count<TAB>file<TAB>code<TAB>message': %r" % (path, number, line))
            counts[(parts[1], parts[2], parts[3])] += int(parts[0])
    return counts, True


def write_baseline(path, tool, counts):
    lines = [HEADER.format(tool=tool)]
    for key in sorted(counts):
        lines.append("%d\t%s\t%s\t%s\n" % ((counts[key],) + key))
    text = "".join(lines)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def show_key(key):
    return "%s: [%s] %s" % key


def main(argv):
    parser = argparse.ArgumentParser(description="Compare a checker's findings with its baseline.")
    parser.add_argument("tool", choices=["mypy", "ruff"])
    parser.add_argument("output")
    parser.add_argument("baseline")
    parser.add_argument("--root", default="")
    parser.add_argument("--summary", default="")
    parser.add_argument("--update", action="store_true")
    parser.add_argument("--allow-growth", action="store_true")
    args = parser.parse_args(argv)
    tool = args.tool
    name = args.baseline  # as given (relative to the checkout), for the messages

    try:
        with open(args.output, encoding="utf-8") as handle:
            text = handle.read()
        findings, stopped = (read_mypy if tool == "mypy" else read_ruff)(text, args.root)
        baseline, exists = read_baseline(args.baseline)
    except (Unreadable, OSError, KeyError, TypeError) as exc:
        print("%s: cannot read the findings: %s" % (tool, exc), file=sys.stderr)
        return 2

    now = collections.Counter(finding.key for finding in findings)
    grown = sorted(key for key in now if now[key] > baseline[key])
    shrunk = sorted(key for key in baseline if now[key] < baseline[key])
    status = 0

    if stopped:
        # Syntax errors stop mypy before it checks the rest: what it found is not the whole
        # picture, so this fails even when those errors are baselined, and is never written down.
        print("%s: stopped early (errors prevented further checking); fix these first:" % tool)
        for finding in findings:
            print("  " + finding.text.replace("\n", "\n  "))
        status = 1
    elif grown:
        new_count = sum(now[key] - baseline[key] for key in grown)
        if args.update and args.allow_growth:
            print("%s: %d finding(s) beyond %s are added to it (--allow-growth):" % (tool, new_count, name))
        elif args.update:
            print("%s: %d new finding(s) not in %s; --update only shrinks the baseline, so it is left"
                  " as it was. Fix them, or add them on purpose with"
                  " `bash scripts/static_checks --update --allow-growth`:" % (tool, new_count, name))
            status = 1
        else:
            print("%s: %d new finding(s) not in %s:" % (tool, new_count, name))
            status = 1
        grown_set = set(grown)
        for finding in sorted(findings, key=lambda finding: (finding.file, finding.line)):
            if finding.key in grown_set:
                text = "  " + finding.text.replace("\n", "\n  ")
                if baseline[finding.key]:
                    # Which of a key's occurrences is the new one cannot be told: all are shown.
                    text += "\n    (%d like this now, %d in the baseline)" % (now[finding.key], baseline[finding.key])
                print(text)
    if not exists and not args.update:
        print("%s: %s does not exist; `bash scripts/static_checks --update --allow-growth` writes it"
              % (tool, name))

    changed = False
    if args.update and status == 0:
        old_text = None
        if exists:
            with open(args.baseline, encoding="utf-8") as handle:
                old_text = handle.read()
        write_baseline(args.baseline, tool, now)
        with open(args.baseline, encoding="utf-8") as handle:
            changed = handle.read() != old_text
        if shrunk:
            print("%s: %d baselined finding(s) no longer occur; removed from %s:"
                  % (tool, sum(baseline[key] - now[key] for key in shrunk), name))
            for key in shrunk:
                print("  (%d -> %d) %s" % (baseline[key], now[key], show_key(key)))
        print("%s: %s %s" % (tool, name, "rewritten" if changed else "unchanged"))
    elif shrunk and not stopped and args.update:
        print("%s: %d baselined finding(s) no longer occur; they leave %s once nothing is new:"
              % (tool, sum(baseline[key] - now[key] for key in shrunk), name))
        for key in shrunk:
            print("  (%d in the baseline, %d now) %s" % (baseline[key], now[key], show_key(key)))
    elif shrunk and not stopped:
        print("%s: %d baselined finding(s) no longer occur; the baseline can shrink"
              " (run `bash scripts/static_checks --update` and commit %s):"
              % (tool, sum(baseline[key] - now[key] for key in shrunk), name))
        for key in shrunk:
            print("  (%d in the baseline, %d now) %s" % (baseline[key], now[key], show_key(key)))

    verdict = ""
    if stopped:
        verdict = ": STOPPED EARLY"
    elif grown and not (args.update and args.allow_growth):
        verdict = ": %d NEW" % sum(now[key] - baseline[key] for key in grown)
    elif args.update:
        verdict = ": baseline rewritten" if changed else ": baseline unchanged"
    summary = "%-5s %4d findings now, %4d in the baseline (%s)%s" % (
        tool, sum(now.values()), sum(baseline.values()), name, verdict)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as handle:
            handle.write(summary + "\n")
    else:
        print(summary)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
