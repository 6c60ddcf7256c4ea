#!/usr/bin/python3
"""Spindle benchmark report (python3 standard library only).

Subcommands
  table       merge the Linux baseline and every part into ONE printed table,
              build/bench/results.json and build/bench/results.png
  serial2part turn a serial log with BENCH lines into a part (JSON array)
  repeat      compare two serial logs' BENCH lines (repeatability test)

Benchmark definitions come from bench/benchmarks.def (shared with the C
benchmark programs); figures come from parts, each a JSON file holding a
JSON array of objects.  THE PART SCHEMA (also in docs/benchmarks.md):

  [
    {
      "name":    "null_syscall",   # required.  Guest rows: an id from
                                   #   bench/benchmarks.def, so it lines up with
                                   #   the Linux figure.  Other rows: any name.
      "unit":    "insns",          # required.  "insns" (guest instructions
                                   #   under icount), "vns" (virtual ns),
                                   #   "ns", "cycles", "MB/s", ...
      "spindle": 310,              # required: Spindle's figure (the median),
                                   #   a number, or null if not measured.
      "section": "guest",          # optional, default "guest".  "host" for
                                   #   host-native figures; any other string
                                   #   gets a table section of its own.
      "smp":     1,                # optional, guest rows: QEMU -smp, default 1
      "p10": 305, "p90": 330,      # optional spread, same unit as spindle;
      "min": 300, "max": 900,      #   any subset of these
      "n":       400,              # optional: number of samples
      "baseline": 2.5,             # optional, non-guest rows: the reference
                                   #   measured in the same run (e.g. a direct
                                   #   C call), same unit as spindle
      "baseline_name": "C call",   # optional: what the baseline is
      "ratio":   124.0,            # optional, non-guest rows: spindle /
                                   #   baseline; computed here when absent
      "note":    "free text",      # optional
      "error":   "text"            # optional: a BENCHERROR line of the run
                                   #   (serial2part writes one object per
                                   #   line, figure null); the table lists
                                   #   each as a warning, never as a row
    }
  ]

Guest rows are compared with the Linux baseline of the same id and smp
(ratio = spindle / linux); the Linux baseline files use the same schema
with the field "linux" in place of "spindle".  A figure that does not exist
prints as an em dash and is null in results.json.  Unknown fields are
carried into results.json under "extra".
"""

import argparse
import ast
import json
import math
import os
import re
import subprocess
import sys

DASH = "\u2014"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DEFS = os.path.join(HERE, "benchmarks.def")
SPREAD = ("p10", "p90", "min", "max", "n")
KNOWN = {"name", "unit", "spindle", "linux", "section", "smp", "baseline",
         "baseline_name", "ratio", "note", "error"} | set(SPREAD)


# ---- definitions --------------------------------------------------------

def load_defs(path):
    """Parses the BENCH_DEF(...) lines of benchmarks.def, in file order."""
    fields = ("id", "unit", "samples", "paper_table", "paper_op", "paper_us",
              "linux", "what")
    defs = []
    with open(path) as f:
        for line in f:
            m = re.match(r"^BENCH_DEF\((\w+),(.*)\)\s*$", line)
            if not m:
                continue
            vals = ast.literal_eval("(%r,%s)" % (m.group(1), m.group(2)))
            if len(vals) != len(fields):
                sys.exit("%s: BENCH_DEF %s has %d fields, not %d"
                         % (path, m.group(1), len(vals), len(fields)))
            d = dict(zip(fields, vals))
            if d["paper_us"] is not None and d["paper_us"] < 0:
                d["paper_us"] = None
            defs.append(d)
    return defs


def load_pairs(path):
    """Parses the BENCH_VS(spindle_id, linux_id) lines: a Spindle benchmark
    with no Linux run of its own id is compared with that Linux benchmark."""
    pairs = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^BENCH_VS\((\w+),\s*(\w+)\)\s*$", line)
            if m:
                pairs[m.group(1)] = m.group(2)
    return pairs


# ---- serial logs ----------------------------------------------------------

BENCH_RE = re.compile(r"^BENCH (\w+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)\s*$")


def parse_serial(path, errors=None):
    """Returns (results by id, info dict, BENCHEND count or None); the text
    of every BENCHERROR line is appended to errors if given."""
    res, info, end = {}, {}, None
    with open(path, errors="replace") as f:
        for raw in f:
            line = raw.strip("\r\n")
            # a kernel message may share the line's start; BENCH must not
            i = line.find("BENCH")
            if i < 0:
                continue
            line = line[i:]
            m = BENCH_RE.match(line)
            if m:
                med, p10, p90, mn, mx, n = (int(x) for x in m.groups()[1:])
                res[m.group(1)] = {"median": med, "p10": p10, "p90": p90,
                                   "min": mn, "max": mx, "n": n}
            elif line.startswith("BENCHERROR"):
                if errors is not None:
                    errors.append(line[len("BENCHERROR"):].strip() or "(no text)")
            elif line.startswith("BENCHINFO "):
                parts = line.split(None, 2)
                if len(parts) == 3:
                    info[parts[1]] = parts[2]
            elif line.startswith("BENCHEND"):
                try:
                    end = int(line.split()[1])
                except (IndexError, ValueError):
                    end = -1
    return res, info, end


def cmd_serial2part(args):
    defs = {d["id"]: d for d in load_defs(args.defs)}
    errors = []
    res, info, end = parse_serial(args.log, errors)
    for e in errors:
        print("serial2part: %s: BENCHERROR %s" % (args.log, e), file=sys.stderr)
    if end is None:
        sys.exit("serial2part: %s: no BENCHEND line (run incomplete)" % args.log)
    if end <= 0 or not res:
        sys.exit("serial2part: %s: no BENCH results" % args.log)
    out = []
    for name, r in res.items():
        unit = defs[name]["unit"] if name in defs else args.unit
        if args.unit_override and unit == "insns":
            unit = args.unit_override
        obj = {"name": name, "unit": unit,
               args.side: r["median"],
               "section": args.section, "smp": args.smp}
        for k in SPREAD:
            obj[k] = r[k]
        if "kernel" in info:
            obj["note"] = info["kernel"]
        out.append(obj)
    # Each BENCHERROR line travels with the part, so the table can say what
    # went wrong instead of only showing a missing figure.  The name is the
    # benchmark id the line starts with ("id: text"), if it has one.
    for e in errors:
        m = re.match(r"^(\w+):", e)
        name = m.group(1) if m else "BENCHERROR"
        unit = defs[name]["unit"] if name in defs else args.unit
        out.append({"name": name, "unit": unit, args.side: None,
                    "section": args.section, "smp": args.smp, "error": e})
    text = json.dumps(out, indent=1) + "\n"
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.output)
    else:
        sys.stdout.write(text)


def cmd_repeat(args):
    """Two runs of the same benchmarks must give identical figures."""
    errs_a, errs_b = [], []
    a, _, enda = parse_serial(args.log_a, errs_a)
    b, _, endb = parse_serial(args.log_b, errs_b)
    passed = failed = 0
    label = args.label + " " if args.label else ""
    for run, errs in (("first", errs_a), ("second", errs_b)):
        for e in errs:
            print("warning: %s%s run: BENCHERROR %s" % (label, run, e))
    for run, end, path in (("first", enda, args.log_a), ("second", endb, args.log_b)):
        if end is None or end <= 0:
            print("FAIL %s%s run incomplete (no BENCHEND or no results): %s"
                  % (label, run, path))
            failed += 1
        else:
            print("ok   %s%s run complete (%d results)" % (label, run, end))
            passed += 1
    for name in sorted(set(a) | set(b)):
        if name in args.skip:
            continue
        if name not in a or name not in b:
            print("FAIL %s%s: only in one run" % (label, name))
            failed += 1
            continue
        fields = ["median"] if args.median_only else \
            ["median", "p10", "p90", "min", "max", "n"]
        diff = [f for f in fields if a[name][f] != b[name][f]]
        if diff:
            print("FAIL %s%s: %s" % (label, name, ", ".join(
                "%s %d vs %d" % (f, a[name][f], b[name][f]) for f in diff)))
            failed += 1
        else:
            print("ok   %s%s: median %d (%s) in both runs"
                  % (label, name, a[name]["median"], "/".join(fields)))
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


# ---- the table ------------------------------------------------------------

def load_json_array(path, problems):
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        problems.append("%s: unreadable (%s)" % (path, e))
        return []
    if not isinstance(data, list):
        problems.append("%s: not a JSON array" % path)
        return []
    good = []
    for i, o in enumerate(data):
        if not isinstance(o, dict) or "name" not in o or "unit" not in o:
            problems.append("%s: object %d lacks name/unit, skipped" % (path, i))
            continue
        good.append(o)
    return good


def num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) \
        and math.isfinite(v) else None


def fmt(v, unit=None):
    v = num(v)
    if v is None:
        return DASH
    if unit == "vns" and v >= 1e6:
        return "%.3f s" % (v / 1e9)
    if float(v).is_integer() and abs(v) >= 1:
        return "{:,}".format(int(v))
    if abs(v) >= 100:
        return "{:,.0f}".format(v)
    if abs(v) >= 1:
        return "%.2f" % v
    return "%.3g" % v


def fmt_guest(v, unit):
    """Guest cells: bare numbers are instructions; other units say so."""
    text = fmt(v, unit)
    if text == DASH or unit in (None, "insns", "vns"):
        return text
    return "%s %s" % (text, unit)


def fmt_ratio(r):
    r = num(r)
    return DASH if r is None else ("%.2fx" % r if r < 100 else "%.0fx" % r)


def ratio(a, b):
    a, b = num(a), num(b)
    return a / b if a is not None and b else None


def render(headers, rows, align):
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    def line(cells):
        out = []
        for c, w, a in zip(cells, widths, align):
            out.append(c.ljust(w) if a == "l" else c.rjust(w))
        return "  ".join(out).rstrip()
    text = [line(headers), line(["-" * w for w in widths])]
    text += [line(r) for r in rows]
    return "\n".join(text)


def cmd_table(args):
    defs = load_defs(args.defs)
    pairs = load_pairs(args.defs)
    problems = []

    linux = {}      # (name, smp) -> object
    linux_info = []
    for path in args.linux:
        if not os.path.exists(path):
            problems.append("Linux baseline %s missing" % path)
            continue
        for o in load_json_array(path, problems):
            if "error" in o:
                problems.append("Linux baseline %s: BENCHERROR %s" % (path, o["error"]))
                continue
            linux[(o["name"], int(o.get("smp", 1)))] = o
            if o.get("note") and o["note"] not in linux_info:
                linux_info.append(o["note"])

    parts = {}
    if os.path.isdir(args.parts):
        for fn in sorted(os.listdir(args.parts)):
            if fn.endswith(".json"):
                parts[fn[:-5]] = load_json_array(os.path.join(args.parts, fn), problems)
    for p in args.failed:
        problems.append("part %s failed to run (log: %s/%s.log)" % (p, args.parts, p))
    for p in args.expected:
        if p not in parts and p not in args.failed:
            problems.append("part %s wrote no %s/%s.json" % (p, args.parts, p))

    spindle = {}    # (name, smp) -> object, guest rows
    other = {}      # section -> list of objects
    for pname, objs in parts.items():
        for o in objs:
            if "error" in o:
                problems.append("part %s: BENCHERROR %s" % (pname, o["error"]))
                continue
            o = dict(o, _part=pname)
            sec = o.get("section") or "guest"
            if sec == "guest":
                key = (o["name"], int(o.get("smp", 1)))
                if key in spindle:
                    problems.append("guest figure %s smp%d given by parts %s and %s; "
                                    "using %s" % (key[0], key[1], spindle[key]["_part"],
                                                  pname, pname))
                spindle[key] = o
            else:
                other.setdefault(sec, []).append(o)

    results = []
    # Guest rows: every definition, then guest names no definition has.
    names = [d["id"] for d in defs]
    by_id = {d["id"]: d for d in defs}
    for (n, _smp) in sorted(set(spindle) | set(linux)):
        if n not in names:
            names.append(n)
    smps = sorted({s for (_n, s) in set(spindle) | set(linux)} | {1, 2})
    table_rows = []
    for n in names:
        d = by_id.get(n, {})
        peer = pairs.get(n) if not any((n, s) in linux for s in smps) else None
        row = [n if not peer else "%s (vs %s)" % (n, peer), fmt(d.get("paper_us"))]
        unit = d.get("unit")
        for smp in smps:
            lo, so = linux.get((peer or n, smp)), spindle.get((n, smp))
            unit = unit or (lo or so or {}).get("unit")
            lv = num(lo.get("linux")) if lo else None
            sv = num(so.get("spindle")) if so else None
            r = ratio(sv, lv)
            row += [fmt_guest(lv, unit), fmt_guest(sv, unit), fmt_ratio(r)]
            if lo is None and so is None and smp != 1:
                continue
            obj = {"name": n, "unit": unit or (so or lo or {}).get("unit"),
                   "spindle": sv, "linux": lv, "ratio": r, "section": "guest",
                   "smp": smp, "paper_us": d.get("paper_us"),
                   "paper_table": d.get("paper_table") or None,
                   "paper_op": d.get("paper_op") or None,
                   "what": d.get("what"), "linux_impl": d.get("linux") or None,
                   "linux_name": peer or (n if lo else None)}
            for side, src in (("linux", lo), ("spindle", so)):
                for k in SPREAD:
                    obj["%s_%s" % (side, k)] = num(src.get(k)) if src else None
            if so:
                obj["part"] = so["_part"]
                extra = {k: v for k, v in so.items() if k not in KNOWN and k != "_part"}
                if extra:
                    obj["extra"] = extra
            results.append(obj)
        table_rows.append(row)

    headers = ["benchmark", "SPIN'95 us"]
    for smp in smps:
        headers += ["Linux smp%d" % smp, "Spindle smp%d" % smp, "S/L"]
    out = []
    out.append("Guest benchmarks: median guest instructions per operation under "
               "QEMU TCG -icount shift=0 (1 insn = 1 virtual ns; 'vns' rows in seconds)")
    out.append(render(headers, table_rows, "ll" + "rrr" * len(smps)))

    for sec in sorted(other):
        rows = []
        for o in other[sec]:
            sv = num(o.get("spindle"))
            bv = num(o.get("baseline"))
            r = num(o.get("ratio"))
            if r is None:
                r = ratio(sv, bv)
            spread = DASH
            if num(o.get("p10")) is not None and num(o.get("p90")) is not None:
                spread = "%s..%s" % (fmt(o["p10"]), fmt(o["p90"]))
            elif num(o.get("min")) is not None and num(o.get("max")) is not None:
                spread = "%s..%s (min..max)" % (fmt(o["min"]), fmt(o["max"]))
            rows.append([o["name"], o["unit"], fmt(sv), spread, fmt(bv),
                         o.get("baseline_name") or "", fmt_ratio(r)])
            obj = {"name": o["name"], "unit": o["unit"], "spindle": sv, "linux": None,
                   "ratio": r, "section": sec, "smp": o.get("smp"), "baseline": bv,
                   "baseline_name": o.get("baseline_name"), "part": o["_part"]}
            for k in SPREAD:
                obj["spindle_" + k] = num(o.get(k))
            extra = {k: v for k, v in o.items() if k not in KNOWN and k != "_part"}
            if o.get("note"):
                extra["note"] = o["note"]
            if extra:
                obj["extra"] = extra
            results.append(obj)
        out.append("")
        title = ("Host-native benchmarks: real time on this machine, median of the run; "
                 "ratio = figure / baseline measured in the same run"
                 if sec == "host" else "Section %s" % sec)
        out.append(title)
        out.append(render(["benchmark", "unit", "median", "p10..p90", "baseline",
                           "baseline is", "ratio"], rows, "llrrrlr"))
    if "host" not in other:
        out.append("")
        out.append("Host-native benchmarks: %s (no part with section \"host\" yet)" % DASH)

    out.append("")
    if linux_info:
        out.append("Linux: " + "; ".join(linux_info))
    out.append("Spindle parts: " + (", ".join(sorted(parts)) if parts else DASH))
    for p in problems:
        out.append("warning: " + p)
    print("\n".join(out))

    os.makedirs(args.out, exist_ok=True)
    rpath = os.path.join(args.out, "results.json")
    with open(rpath + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    os.replace(rpath + ".tmp", rpath)
    chart(results, smps, args)
    print("wrote %s and %s" % (rpath, os.path.join(args.out, "results.png")))
    return 0


def chart(results, smps, args):
    """Bar chart of Spindle/Linux ratios, one bar per smp configuration."""
    dat = os.path.join(args.out, "ratios.dat")
    png = os.path.join(args.out, "results.png")
    guest = [o for o in results if o["section"] == "guest"]
    names = [n for n in dict.fromkeys(o["name"] for o in guest)
             if any(o["ratio"] is not None for o in guest if o["name"] == n)]
    with open(dat, "w") as f:
        for n in names:
            vals = []
            for smp in smps:
                r = [o["ratio"] for o in guest if o["name"] == n and o["smp"] == smp]
                vals.append("%.6g" % r[0] if r and r[0] is not None else "-")
            f.write("%s %s\n" % (n, " ".join(vals)))
    gp = ['set terminal pngcairo size 1000,560 font ",10"' if args.cairo
          else 'set terminal png size 1000,560',
          'set output "%s"' % png,
          'set ylabel "Spindle / Linux (guest instructions, lower is faster)"',
          'set grid ytics']
    if names:
        gp += ['set title "Spindle / Linux, same QEMU TCG -icount configuration"',
               'set style data histograms', 'set style histogram clustered gap 1',
               'set style fill solid 0.8 border -1', 'set boxwidth 0.9',
               'set datafile missing "-"', 'set xtics rotate by -40 noenhanced',
               'set logscale y', 'set key top left',
               'set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2',
               'plot ' + ", ".join('"%s" using %d%s title "-smp %d"'
                                    % (dat, i + 2, ":xtic(1)" if i == 0 else "", smp)
                                    for i, smp in enumerate(smps))]
    else:
        gp += ['set title "No Spindle/Linux ratios yet: no Spindle guest figures '
               'match a Linux baseline figure"',
               'set xrange [0:1]', 'set yrange [0:2]', 'unset xtics',
               'plot 1 with lines dt 2 title "ratio 1"']
    try:
        subprocess.run([args.gnuplot], input="\n".join(gp) + "\n", text=True,
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", "") or str(e)
        print("warning: gnuplot failed, no %s: %s" % (png, err.strip()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--defs", default=DEFAULT_DEFS)
    sub = ap.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("table", help="print the table, write results.json/.png")
    t.add_argument("--linux", action="append", default=[],
                   help="Linux baseline JSON (one per smp configuration)")
    t.add_argument("--parts", default="build/bench/parts")
    t.add_argument("--out", default="build/bench")
    t.add_argument("--expected", nargs="*", default=[], help="BENCH_PARTS names")
    t.add_argument("--failed", nargs="*", default=[], help="parts whose target failed")
    t.add_argument("--gnuplot", default="gnuplot")
    t.add_argument("--no-cairo", dest="cairo", action="store_false")

    s = sub.add_parser("serial2part", help="BENCH lines of a serial log -> part JSON")
    s.add_argument("log")
    s.add_argument("-o", "--output")
    s.add_argument("--smp", type=int, default=1)
    s.add_argument("--section", default="guest")
    s.add_argument("--side", choices=("spindle", "linux"), default="spindle")
    s.add_argument("--unit", default="insns", help="unit of ids not in benchmarks.def")
    s.add_argument("--unit-override", help="unit replacing \"insns\" (e.g. cycles "
                   "for runs without icount, where the TSC counts time)")

    r = sub.add_parser("repeat", help="compare two serial logs (same figures)")
    r.add_argument("log_a")
    r.add_argument("log_b")
    r.add_argument("--label", default="")
    r.add_argument("--skip", nargs="*", default=["boot_to_init"],
                   help="ids not expected to repeat (default: boot_to_init)")
    r.add_argument("--median-only", action="store_true",
                   help="compare medians only (default: every figure of the line)")

    args = ap.parse_args()
    if args.cmd == "table":
        return cmd_table(args)
    if args.cmd == "serial2part":
        return cmd_serial2part(args)
    return cmd_repeat(args)


if __name__ == "__main__":
    sys.exit(main())
