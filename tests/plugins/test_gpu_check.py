"""The GPU check script: refuses cleanly without a GPU, compares correctly, and its committed results hold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from demos.plugins import gpu_check

REPO = Path(__file__).resolve().parents[2]
RESULTS = sorted((REPO / "demos" / "plugins" / "results").glob("*.json"))


def test_without_a_gpu_it_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "gpu_check.json"
    proc = subprocess.run([sys.executable, "-m", "demos.plugins.gpu_check", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU; the refusal path is for CPU-only machines")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip().splitlines()[-1]]  # one line, no traceback
    assert proc.stderr.startswith("error: no CUDA device: ")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_compare_counts_exact_matches_errors_and_unwritten_outputs():
    ref = np.float32([[1.0, 2.0, -3.5, 0.25]])
    same = gpu_check.compare(ref.copy(), ref)
    assert same == {"max_abs_err": 0.0, "exact_match_rate": 1.0, "unwritten": 0}
    off = ref.copy()
    off[0, 1] = np.nextafter(np.float32(2.0), np.float32(3.0))  # one ulp
    r = gpu_check.compare(off, ref)
    assert r["exact_match_rate"] == 0.75 and 0 < r["max_abs_err"] < 1e-6 and r["unwritten"] == 0
    poisoned = ref.copy()
    poisoned[0, 3] = np.nan  # the kernel never wrote this element
    assert gpu_check.compare(poisoned, ref)["unwritten"] == 1
    half = ref.astype(np.float16)
    assert gpu_check.compare(half.copy(), half)["exact_match_rate"] == 1.0


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_committed_gpu_results_pass_and_carry_provenance(path):
    report = json.loads(path.read_text(encoding="utf-8"))
    prov = report["provenance"]
    assert prov["gpu"]["name"] and prov["date"] and prov["libraries"]["cupy"] and prov["libraries"]["triton"]
    assert prov["libraries"]["torch"] and prov["libraries"]["cuda_runtime"]
    checks = report["checks"]
    assert checks and all(c["pass"] for c in checks)
    assert all(c["vs_numpy"]["unwritten"] == 0 for c in checks)
    assert {c["kernel"] for c in checks} == {"cuda_cupy", "triton"}
    assert {(c["in_dtype"], c["out_dtype"]) for c in checks} == {(i, o) for i in ("uint8", "float16") for o in ("float32", "float16")}
    assert report["summary"]["cases"] == len(checks)
    impls = {t["impl"] for t in report["timings"]}
    assert impls == {"cuda_cupy", "triton", "torch_eager"}
    assert all(t["median_us"] > 0 for t in report["timings"])
    by_dtype = {t["dtype"]: t for t in report["transfers"]}
    assert by_dtype["float32"]["bytes"] == 4 * by_dtype["uint8"]["bytes"]
