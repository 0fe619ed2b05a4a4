"""``python -m demos.selfcheck [--json FILE] [--only TEXT] [--keep DIR]``: what this machine can do, checked.

Prints two tables: the environment (TensorRT and its flavour, GPU, CUDA, the buffer libraries, ONNX Runtime,
ModelOpt), then one line per check: passed, failed, or skipped with the reason.  Exit status 0 unless a check
that could run failed (1); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from demos.errors import run_cli


def _cell(value) -> str:
    return "-" if value is None else str(value)


def format_environment(components) -> str:
    rows = [("component", "usable", "version", "detail")]
    rows += [(c.name, "yes" if c.available else "no", _cell(c.version), c.detail) for c in components]
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{a:<{w[0]}}  {b:<{w[1]}}  {v:<{w[2]}}  {d}".rstrip() for a, b, v, d in rows)


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


def format_results(results) -> str:
    w = max(len(r.name) for r in results) if results else 10
    lines = [f"{'check':<{w}}  {'result':<7}  detail"]
    lines += [f"{r.name:<{w}}  {r.status:<7}  {summary_of(r)}".rstrip() for r in results]
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
