#!/usr/bin/env python3
"""Checks every *.expect.json under a fixture directory against its dump, with small
independent readers for each format. It exists to prove the expectations right while the
fixtures are made; the tests that matter read the same files through hangdoc's own parsers
(tests/fixtures_formats.rs, tests/live_fixtures.rs).

usage: check_expect.py DIR [DIR...]      exit status 1 when any expectation fails
"""
import gzip
import json
import os
import re
import sys


def normalise(name):
    """Elide generic brackets the way tracebacks print them: each top-level [..] -> [...]."""
    out, depth = [], 0
    for ch in name:
        if ch == "[":
            if depth == 0:
                out.append("[...]")
            depth += 1
        elif ch == "]" and depth > 0:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


# ---- traceback text -------------------------------------------------------------------

def split_labels(text):
    """Parses `k: v, "k 2": "v"` (1.27) or `"k": "v", ...` (1.26) into a dict."""
    labels, i, toks = {}, 0, []
    cur, quoted = "", False
    while i < len(text):
        ch = text[i]
        if ch == '"':
            j, buf = i + 1, ""
            while j < len(text) and text[j] != '"':
                if text[j] == "\\" and j + 1 < len(text):
                    buf += {"n": "\n", "t": "\t", "r": "\r"}.get(text[j + 1], text[j + 1])
                    j += 2
                    continue
                buf += text[j]
                j += 1
            cur += buf
            i = j + 1
            continue
        if ch in ":," and not quoted:
            toks.append((cur.strip(), ch))
            cur = ""
        else:
            cur += ch
        i += 1
    toks.append((cur.strip(), None))
    for n in range(0, len(toks) - 1, 2):
        labels[toks[n][0]] = toks[n + 1][0]
    return labels


def parse_header(line):
    m = re.match(r"goroutine (\d+)(?: gp=\S+(?: m=nil| m=\d+ mp=\S+))? \[", line)
    if not m:
        return None
    gid, i = int(m.group(1)), m.end()
    # scan to the closing ] honouring quotes
    j, inq = i, False
    while j < len(line):
        if line[j] == '"' and line[j - 1] != "\\":
            inq = not inq
        elif line[j] == "]" and not inq:
            break
        j += 1
    inside, rest = line[i:j], line[j + 1:]
    labels = None
    k = inside.find(" labels:{")
    if k >= 0:
        labels = split_labels(inside[k + 9:].rstrip("}"))
        inside = inside[:k]
    rest = rest.rstrip(":")
    if rest.startswith(" {"):
        labels = split_labels(rest[2:-1])
    parts = inside.split(", ")
    status, g = parts[0], {"id": gid, "labels": labels or {}, "minutes": 0,
                           "locked": False, "leaked": False}
    for p in parts[1:]:
        if p.endswith(" minutes"):
            g["minutes"] = int(p.split()[0])
        elif p == "locked to thread":
            g["locked"] = True
    if status.endswith(" (leaked)"):
        g["leaked"], status = True, status[: -len(" (leaked)")]
    g["state"] = status
    return g


def parse_traceback(text):
    lines = text.replace("\r\n", "\n").split("\n")
    gs, g, target, pending = [], None, None, None
    preamble = next((l for l in lines if l.strip()), "")
    for line in lines:
        h = parse_header(line) if line.startswith("goroutine ") else None
        if h:
            g = dict(h, frames=[], creator=None, parent=None, ancestors=[], elided=False)
            gs.append(g)
            target, pending = g["frames"], None
            continue
        if g is None:
            continue
        if line == "":
            g, target = None, None
            continue
        if line.startswith("\t"):
            if pending is not None:
                pending["offset"] = "+0x" in line
            continue
        if line.startswith("...") and line.endswith("elided..."):
            g["elided"] = True
            continue
        m = re.match(r"\[originating from goroutine (\d+)\]:", line)
        if m:
            target = []
            g["ancestors"].append(target)
            continue
        if line.startswith("created by "):
            m = re.match(r"created by (.*?)(?: in goroutine (\d+))?$", line)
            if target is g["frames"]:
                g["creator"] = normalise(m.group(1))
                g["parent"] = int(m.group(2)) if m.group(2) else None
            pending = None
            continue
        k = line.rfind("(")
        fn = line[:k] if k > 0 else line
        pending = {"function": normalise(fn), "inlined": line.endswith("(...)")}
        target.append(pending)
    return preamble, gs


def check_traceback(e, text, fail):
    preamble, gs = parse_traceback(text)
    if e.get("preamble") and not preamble.startswith(e["preamble"]):
        fail(f"preamble {preamble!r} does not start with {e['preamble']!r}")
    n = len(gs)
    if e.get("goroutines_at_most") is not None and not (1 <= n <= e["goroutines_at_most"]):
        fail(f"{n} goroutines, expected between 1 and {e['goroutines_at_most']}")
    elif e.get("goroutines_at_most") is None:
        want = e["goroutines"]
        if (e["goroutines_exact"] and n != want) or n < want:
            fail(f"{n} goroutines, expected {'' if e['goroutines_exact'] else '>= '}{want}")
    if not e["labels_in_dump"] and any(g["labels"] for g in gs):
        fail("labels in a dump expected to have none")
    by_id = {g["id"]: g for g in gs}
    for c in e["categories"]:
        fn = c["function"]
        hits = [g for g in gs if any(f["function"] == fn for f in g["frames"])]
        if len(hits) != c["count"]:
            fail(f"{fn}: {len(hits)} goroutines, expected {c['count']}")
        for g in hits:
            where = f"{fn} (goroutine {g['id']})"
            if "state" in c and g["state"] != c["state"]:
                fail(f"{where}: state {g['state']!r}, expected {c['state']!r}")
            if "labels" in c and g["labels"] != c["labels"]:
                fail(f"{where}: labels {g['labels']}, expected {c['labels']}")
            for flag in ("locked", "leaked", "elided"):
                if c.get(flag) and not g[flag]:
                    fail(f"{where}: not {flag}")
            if c.get("inlined") and not any(f["function"] == fn and f["inlined"] and not f.get("offset")
                                            for f in g["frames"]):
                fail(f"{where}: frame not printed as inlined")
            if c.get("created_by") and g["creator"] != c["created_by"]:
                fail(f"{where}: created by {g['creator']}, expected {c['created_by']}")
            if c.get("parent_function"):
                p = by_id.get(g["parent"])
                if not p or not any(f["function"] == c["parent_function"] for f in p["frames"]):
                    fail(f"{where}: parent goroutine {g['parent']} does not run {c['parent_function']}")
            for a in c.get("ancestor_functions", []):
                if not any(f["function"] == a for sec in g["ancestors"] for f in sec):
                    fail(f"{where}: no ancestor section with {a}")
            if g["minutes"] < c.get("min_wait_minutes", 0):
                fail(f"{where}: waited {g['minutes']} minutes, expected >= {c['min_wait_minutes']}")


# ---- aggregated formats -------------------------------------------------------------

def parse_debug1(text):
    recs, rec = [], None
    lines = text.split("\n")
    header = lines[0]
    for line in lines[1:]:
        m = re.match(r"(\d+) @", line)
        if m:
            rec = {"count": int(m.group(1)), "labels": {}, "frames": []}
            recs.append(rec)
        elif rec and line.startswith("# labels: "):
            rec["labels"] = json.loads(line[len("# labels: "):])
        elif rec and line.startswith("#\t"):
            cols = re.split(r"\t+", line)
            if len(cols) >= 3:
                rec["frames"].append({"function": normalise(re.sub(r"\+0x[0-9a-f]+$", "", cols[2])),
                                      "inlined": False})
    return header, recs


def parse_traces(text):
    recs, rec, inblock = [], None, False
    for line in text.split("\n"):
        if line.startswith("-----------+"):
            inblock, rec = True, None
            continue
        if not inblock or not line.strip():
            continue
        if rec is None:
            rec = {"count": None, "labels": {}, "frames": []}
            recs.append(rec)
        m = re.match(r"^\s*(-?\d+)   (\S.*)$", line)
        if rec["count"] is None and m:
            rec["count"], frame = int(m.group(1)), m.group(2)
        elif rec["count"] is None:
            k, v = line.strip().split(":  ", 1)
            rec["labels"][k] = v
            continue
        else:
            frame = line.strip()
        inl = frame.endswith(" (inline)")
        frame = frame[: -len(" (inline)")] if inl else frame
        if re.search(r" \S+:\d+$", frame):  # -lines: drop the trailing FILE:LINE
            frame = frame[: frame.rfind(" ")]
        rec["frames"].append({"function": normalise(frame), "inlined": inl})
    return [r for r in recs if r["count"] is not None]


def varint(b, i):
    v = s = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return v, i


def fields(b):
    i, out = 0, []
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("bad wire type")
        out.append((num, wt, v))
    return out


def packed(wt, v):
    if wt == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        out.append(x)
    return out


def parse_proto(data):
    b = gzip.decompress(data)
    strings, samples, locs, funcs = [], [], {}, {}
    for num, wt, v in fields(b):
        if num == 6:
            strings.append(v.decode())
        elif num == 2:
            samples.append(v)
        elif num == 4:
            lid, lines = 0, []
            for n2, w2, v2 in fields(v):
                if n2 == 1:
                    lid = v2
                elif n2 == 4:
                    lines.append(dict((a, c) for a, _, c in fields(v2)).get(1, 0))
            locs[lid] = lines
        elif num == 5:
            d = dict((a, c) for a, _, c in fields(v))
            funcs[d.get(1, 0)] = d.get(2, 0)
    recs = []
    for s in samples:
        ids, vals, labels = [], [], {}
        for n2, w2, v2 in fields(s):
            if n2 == 1:
                ids += packed(w2, v2)
            elif n2 == 2:
                vals += packed(w2, v2)
            elif n2 == 3:
                d = dict((a, c) for a, _, c in fields(v2))
                labels[strings[d.get(1, 0)]] = strings[d.get(2, 0)]
        frames = []
        for lid in ids:
            lines = locs.get(lid, [])
            for k, fid in enumerate(lines):
                frames.append({"function": normalise(strings[funcs.get(fid, 0)]),
                               "inlined": k < len(lines) - 1})
        recs.append({"count": vals[0] if vals else 0, "labels": labels, "frames": frames})
    return recs


def check_records(e, recs, fail):
    total = sum(max(r["count"], 0) for r in recs)
    if total != e["goroutines"]:
        fail(f"{total} goroutines, expected {e['goroutines']}")
    for c in e["categories"]:
        fn = c["function"]
        hits = [r for r in recs if any(f["function"] == fn for f in r["frames"])]
        n = sum(r["count"] for r in hits)
        if n != c["count"]:
            fail(f"{fn}: {n} goroutines, expected {c['count']}")
        for r in hits:
            if "labels" in c and r["labels"] != c["labels"]:
                fail(f"{fn}: labels {r['labels']}, expected {c['labels']}")
            if c.get("inlined") and not any(f["function"] == fn and f["inlined"] for f in r["frames"]):
                fail(f"{fn}: frame not marked inlined")


def check(path):
    e = json.load(open(path))
    fixture = os.path.join(os.path.dirname(path), e["file"])
    errors = []
    fail = errors.append
    data = open(fixture, "rb").read()
    fmt = e["format"]
    if fmt == "pprof-proto":
        check_records(e, parse_proto(data), fail)
    else:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = data.decode("utf-8", "replace")
        if fmt == "goroutine-debug2":
            check_traceback(e, text, fail)
        elif fmt in ("goroutine-debug1", "goroutineleak-debug1"):
            header, recs = parse_debug1(text)
            want = "goroutine profile: total " if fmt == "goroutine-debug1" else "goroutineleak profile: total "
            if header != want + str(e["goroutines"]):
                fail(f"header {header!r}, expected {want}{e['goroutines']}")
            check_records(e, recs, fail)
        elif fmt == "pprof-traces":
            check_records(e, parse_traces(text), fail)
        else:
            fail(f"unknown format {fmt}")
    return errors


def main():
    bad = 0
    for root in sys.argv[1:]:
        for dirpath, _, files in sorted(os.walk(root)):
            for f in sorted(files):
                if f.endswith(".expect.json"):
                    p = os.path.join(dirpath, f)
                    errs = check(p)
                    print(("FAIL " if errs else "ok   ") + p)
                    for err in errs[:12]:
                        print("     " + err)
                    bad += bool(errs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
