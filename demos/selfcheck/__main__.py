"""``python -m demos.selfcheck [--json FILE] [--only TEXT] [--keep DIR]``: what this machine can do, checked.

Prints two tables: the environment (TensorRT and its flavour, GPU, CUDA, the buffer libraries, ONNX Runtime,
ModelOpt), then one line per check: passed, failed, or skipped with the reason.  Exit status 0 unless a check
that could run failed (1); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

from demos.errors import run_cli


# The tables fit the terminal, or 88 columns when the output is not a terminal (a file, a page).
DEFAULT_WIDTH = 88
# A detail column narrower than this is not worth wrapping into: details go below their rows instead.
MIN_DETAIL = 30


def output_width() -> int:
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def _cell(value) -> str:
    return "-" if value is None else str(value)


def _table(heads: list[str], details: list[str], width: int) -> list[str]:
    """A header and rows of fixed columns (``heads``, padded) and a last, free-text column wrapped to ``width``.

    A detail continues under itself on the next lines; where the fixed columns leave fewer than
    ``MIN_DETAIL`` columns, every detail goes on the lines below its row instead, indented, and the
    header names no detail column.
    """
    room = width - max(len(h) for h in heads)
    lines = []
    for i, (head, detail) in enumerate(zip(heads, details)):
        if i == 0 and room < MIN_DETAIL:
            lines.append(head.rstrip())
        elif not detail or len(head) + len(detail) <= width:
            lines.append(f"{head}{detail}".rstrip())
        elif room >= MIN_DETAIL:
            parts = textwrap.wrap(detail, room, break_on_hyphens=False)
            lines += [head + parts[0]] + [" " * len(head) + part for part in parts[1:]]
        else:
            lines.append(head.rstrip())
            lines += ["    " + part for part in textwrap.wrap(detail, width - 4, break_on_hyphens=False)]
    return lines


def format_environment(components, width: int | None = None) -> str:
    rows = [("component", "usable", "version", "detail")]
    rows += [(c.name, "yes" if c.available else "no", _cell(c.version), c.detail) for c in components]
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    heads = [f"{a:<{w[0]}}  {b:<{w[1]}}  {v:<{w[2]}}  " for a, b, v, _ in rows]
    return "\n".join(_table(heads, [d for *_, d in rows], width or output_width()))


def summary_of(result) -> str:
    """One short cell: the numbers for a passed check, the reason for the others."""
    m = result.metrics
    if result.status != "passed":
        return result.detail
    if "max_abs_err" in m:
        return f"max |err| {m['max_abs_err']:.2g}, top-1 {m['top1_agreement']:.0%} vs {m['reference']}"
    if "max_abs_err_vs_numpy" in m:
        return f"max |err| {m['max_abs_err_vs_numpy']:.2g} vs NumPy; {m['implementation']}"
    if "round_trips" in m:
        extra = "; primary context" if m.get("primary_context") else ""
        return f"{m['round_trips']} round trips, {m['allocate_free_cycles']} allocate/free cycles on one stream{extra}"
    if "precision_counts" in m:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(m["precision_counts"].items()))
        dq = f", {m['dq_fed_layers']} DQ-fed" if m.get("dq_fed_layers") else ""
        return f"{m['plan_bytes'] / 1024:.0f} KiB plan; layers {counts}{dq}"
    if "plugin_callbacks" in m:
        return f"{m['plan_bytes'] / 1024:.0f} KiB plan; {m['plugin_callbacks']} plugin callbacks"
    return ""


def format_results(results, width: int | None = None) -> str:
    w = max(len(r.name) for r in results) if results else 10
    heads = [f"{'check':<{w}}  {'result':<7}  "] + [f"{r.name:<{w}}  {r.status:<7}  " for r in results]
    details = ["detail"] + [summary_of(r) for r in results]
    lines = _table(heads, details, width or output_width())
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "skipped")}
    lines.append(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return "\n".join(lines)


def selfcheck(args) -> int:
    from demos import files, provenance
    from demos.selfcheck import checks, environment

    components = environment.probe()
    print(format_environment(components), flush=True)
    print()
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        ctx = checks.Context(workdir, {c.name: c for c in components})
        results = checks.run_all(ctx, args.only)
    print(format_results(results))
    if args.json:
        doc = {"schema": 1, "command": "python -m demos.selfcheck " + " ".join(sys.argv[1:]),
               "provenance": provenance.collect(),
               "environment": [c.as_dict() for c in components],
               "checks": [r.as_dict() for r in results],
               "summary": {s: sum(r.status == s for r in results) for s in ("passed", "failed", "skipped")}}
        files.write_json(args.json, doc)
        print(f"wrote {args.json}")
    return 1 if any(r.status == "failed" for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demos.selfcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE", help="also write the environment and every result, with provenance")
    parser.add_argument("--only", metavar="TEXT", help="run only the checks whose name contains TEXT (e.g. 'CUDA buffers')")
    parser.add_argument("--keep", metavar="DIR", help="build the models and plans in DIR and keep them")
    args = parser.parse_args(argv)
    status = {}

    def action(a):
        status["code"] = selfcheck(a)

    code = run_cli(action, args)
    return code or status.get("code", 0)


if __name__ == "__main__":
    sys.exit(main())
