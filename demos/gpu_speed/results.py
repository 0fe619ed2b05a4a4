"""The result file of ``python -m demos.gpu_speed``: its schema, validation, loading and a text table.

The results folder also holds the files of :mod:`demos.gpu_speed.latency` and :mod:`demos.gpu_speed.alignment`;
each file names its schema, and :func:`load_all` picks the files of one schema, validating each with the
checker of its own schema (an unknown schema is an error, not a file to skip silently).

A result file is JSON::

    {"schema": "demos.gpu_speed/1",
     "provenance": {...},          # demos.provenance.collect() plus the GPU's L2 size and clocks
     "settings": {...},            # device, sizes, timing parameters
     "matmul": [ {dtype, n, unit, ops, rate, best_rate, median_s, ..., check} | {dtype, n, error|skipped} ],
     "memory": {kind, bytes_moved, tbps, ...},
     "elapsed_s": ...}

``rate`` is TFLOPS (TOPS for int8) from the median time; ``best_rate`` from the fastest sample.
"""

from __future__ import annotations

import math
from pathlib import Path

from demos.errors import UserError
from demos.files import read_json, write_json
from demos.gpu_speed.datasheet import match_gpu
from demos.gpu_speed.microbench import CASES

SCHEMA = "demos.gpu_speed/1"
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def positive(value) -> bool:
    """A finite number above zero (booleans are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


_positive = positive


def add_io_arguments(p, example: str) -> None:
    """``--out`` and ``--device``, the same for the three command lines."""
    p.add_argument("--out", type=Path, required=True, help="result JSON to write (written atomically)")
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                   help="cuda (default) measures the first GPU; cpu is a smoke test of the code")
    p.set_defaults(out_example=example)


def check_out(out: Path, example: str) -> None:
    """A one-line error for an ``--out`` that is a folder or not a .json file."""
    if out.exists() and out.is_dir():
        raise UserError(f"--out {out} is a folder; give a file name such as {out / example}")
    if out.suffix != ".json":
        raise UserError(f"--out {out}: the result is JSON, name it *.json")


def header_problems(doc: dict, schema: str) -> list[str]:
    """What every ``demos.gpu_speed`` result needs: its schema, provenance, and the device it ran on."""
    out = []
    if doc.get("schema") != schema:
        out.append(f"schema is {doc.get('schema')!r}, expected {schema!r}")
    prov = doc.get("provenance")
    if not isinstance(prov, dict) or not isinstance(prov.get("date"), str) or not isinstance(prov.get("versions"), dict):
        out.append("provenance with date and versions is missing")
    settings = doc.get("settings")
    if not isinstance(settings, dict) or settings.get("device") not in ("cuda", "cpu"):
        out.append("settings.device must be 'cuda' or 'cpu'")
    elif settings["device"] == "cuda":
        gpu = prov.get("gpu") if isinstance(prov, dict) else None
        if not isinstance(gpu, dict) or not gpu.get("name"):
            out.append("a CUDA result needs provenance.gpu with the GPU name")
    return out


def records_problems(doc, schema: str) -> tuple[list[str], list]:
    """The header's problems and the ``records`` list of a latency or alignment result (empty when absent)."""
    if not isinstance(doc, dict):
        return ["the top level is not a JSON object"], []
    out = header_problems(doc, schema)
    records = doc.get("records")
    if not isinstance(records, list) or not records:
        return out + ["records must be a non-empty list"], []
    return out, records


def problems(doc) -> list[str]:
    """Everything wrong with a result document (empty when it is valid)."""
    if not isinstance(doc, dict):
        return ["the top level is not a JSON object"]
    out = header_problems(doc, SCHEMA)
    matmul = doc.get("matmul")
    if not isinstance(matmul, list) or not matmul:
        out.append("matmul must be a non-empty list")
        matmul = []
    measured = 0
    for i, rec in enumerate(matmul):
        where = f"matmul[{i}]"
        if not isinstance(rec, dict) or rec.get("dtype") not in CASES or not _positive(rec.get("n")):
            out.append(f"{where}: needs a known dtype and a positive n")
            continue
        if "error" in rec or "skipped" in rec:
            continue
        measured += 1
        for key in ("rate", "best_rate", "median_s", "min_s"):
            if not _positive(rec.get(key)):
                out.append(f"{where} ({rec['dtype']}, n={rec['n']}): {key} must be a positive number")
        if _positive(rec.get("rate")) and _positive(rec.get("median_s")):
            expected = 2 * rec["n"] ** 3 / rec["median_s"] / 1e12
            if not math.isclose(rec["rate"], expected, rel_tol=1e-6):
                out.append(f"{where}: rate {rec['rate']} does not equal 2*n^3/median_s = {expected}")
        if _positive(rec.get("min_s")) and _positive(rec.get("median_s")) and rec["min_s"] > rec["median_s"]:
            out.append(f"{where}: min_s is larger than median_s")
        if not isinstance(rec.get("check"), dict) or "passed" not in rec["check"]:
            out.append(f"{where}: the correctness check is missing")
    if matmul and not measured:
        out.append("no matmul case was measured (all failed or were skipped)")
    memory = doc.get("memory")
    if not isinstance(memory, dict) or not (_positive(memory.get("tbps")) or "error" in memory):
        out.append("memory must hold a positive tbps or an error")
    return out


def checkers() -> dict:
    """schema -> problems() of every result kind that lives in the results folder."""
    from demos.gpu_speed import alignment, latency  # they import this module: import them late

    return {SCHEMA: problems, latency.SCHEMA: latency.problems, alignment.SCHEMA: alignment.problems}


def validate(doc, source: str = "result", schema: str = SCHEMA) -> dict:
    check = checkers()[schema]
    found = check(doc) if isinstance(doc, dict) else ["the top level is not a JSON object"]
    if found:
        raise UserError(f"{source} is not a valid {schema.split('/')[0]} result: {found[0]}"
                        + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""))
    return doc


def write(path: str | Path, doc: dict, schema: str = SCHEMA) -> Path:
    """Validate, then write atomically (a temporary file moved into place)."""
    validate(doc, str(path), schema)
    return write_json(path, doc)


def load(path: str | Path, schema: str = SCHEMA) -> dict:
    return validate(read_json(path, "GPU speed result"), str(path), schema)


def load_all(folder: str | Path | None = None, device: str = "cuda", schema: str = SCHEMA) -> list[tuple[Path, dict]]:
    """Every result of ``schema`` in ``folder`` (default: the committed results) measured on ``device``, by
    file name. A file of another known schema is passed over; a file of no known schema is an error."""
    folder = Path(folder) if folder is not None else RESULTS_DIR
    known = checkers()
    out = []
    for path in sorted(folder.glob("*.json")):
        doc = read_json(path, "GPU speed result")
        found = doc.get("schema") if isinstance(doc, dict) else None
        if found not in known:
            raise UserError(f"{path} is not a demos.gpu_speed result (schema {found!r}; known: "
                            f"{', '.join(sorted(known))}); move it out of {folder}")
        if found != schema:
            continue
        validate(doc, str(path), schema)
        if doc["settings"]["device"] == device:
            out.append((path, doc))
    return out


# --- Reading a result -------------------------------------------------------------------------------------

def best_rates(doc: dict) -> dict[str, dict]:
    """Per dtype, the measured record with the highest median rate over all sizes."""
    best: dict[str, dict] = {}
    for rec in doc["matmul"]:
        if "rate" not in rec:
            continue
        if rec["dtype"] not in best or rec["rate"] > best[rec["dtype"]]["rate"]:
            best[rec["dtype"]] = rec
    return best


def describe(doc: dict) -> str:
    """One line of provenance: hardware, driver, CUDA, PyTorch and date."""
    prov = doc["provenance"]
    gpu = prov.get("gpu") or {}
    versions = prov.get("versions", {})
    if doc["settings"]["device"] == "cuda":
        hw = (f"{gpu.get('name', '?')} ({gpu.get('sm_count', '?')} SMs, {gpu.get('memory_gib', '?')} GiB), "
              f"driver {gpu.get('driver', '?')}, CUDA {gpu.get('torch_cuda', '?')}")
    else:
        hw = f"CPU {prov.get('host', {}).get('cpu', '?')} (smoke run, not a GPU measurement)"
    return f"{hw}, PyTorch {versions.get('torch', '?')}, measured {prov['date'][:10]}"


def fmt_rate(value: float) -> str:
    """Three significant digits for small rates (CPU smoke runs), one decimal from 10 up."""
    return f"{value:.1f}" if value >= 10 else f"{value:.3g}"


def table(doc: dict) -> str:
    """The measured rates as a fixed-width text table, with the datasheet peak where one is known."""
    sizes = sorted({rec["n"] for rec in doc["matmul"]})
    gpu = (doc["provenance"].get("gpu") or {})
    sheet = match_gpu(gpu.get("name"), gpu.get("sm_count")) if doc["settings"]["device"] == "cuda" else None
    head = f"{'dtype':<21}" + "".join(f"{'n=' + str(n):>10}" for n in sizes) + f"{'unit':>7}"
    if sheet:
        head += f"{'datasheet':>11}{'best/peak':>10}"
    lines = [head]
    for case in CASES:
        recs = {rec["n"]: rec for rec in doc["matmul"] if rec["dtype"] == case}
        if not recs:
            continue
        cells = []
        for n in sizes:
            rec = recs.get(n)
            if rec is None:
                cells.append(f"{'':>10}")
            elif "rate" in rec:
                flag = "" if rec["check"]["passed"] else "!"
                cells.append(f"{fmt_rate(rec['rate']):>9}{flag or ' '}")
            else:
                cells.append(f"{'failed' if 'error' in rec else 'skipped':>10}")
        unit = next(iter(recs.values()))["unit"]
        line = f"{case:<21}" + "".join(cells) + f"{unit:>7}"
        rates = [r["rate"] for r in recs.values() if "rate" in r]
        if sheet and rates:
            peak = sheet.dense_peak(case)
            line += f"{fmt_rate(peak):>11}{max(rates) / peak:>10.0%}"
        lines.append(line)
    mem = doc["memory"]
    if "tbps" in mem:
        line = f"memory: {mem['kind']}, {mem['bytes_per_copy'] / 2**20:.0f} MiB: {mem['tbps']:.2f} TB/s (read + write)"
        if sheet:
            line += f"; datasheet {sheet.memory_bandwidth_tbps} TB/s ({mem['tbps'] / sheet.memory_bandwidth_tbps:.0%})"
        lines.append(line)
    else:
        lines.append(f"memory: failed ({mem.get('error')})")
    failed = [f"{r['dtype']} n={r['n']}" for r in doc["matmul"] if "check" in r and not r["check"]["passed"]]
    if failed:
        lines.append("! result check failed for: " + ", ".join(failed))
    return "\n".join(lines)
