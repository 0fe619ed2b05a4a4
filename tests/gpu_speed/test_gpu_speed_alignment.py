"""demos.gpu_speed.alignment: which cases run padded, the arithmetic the page shows, the schema, the layers'
correctness checks (padding must not change the useful result) and the command line."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from demos.errors import UserError
from demos.gpu_speed import alignment, microbench, results

ROOT = Path(__file__).resolve().parents[2]


def test_the_rule_and_the_plan():
    assert alignment.padded(63, "fp16") == 64 and alignment.padded(65, "fp16") == 72
    assert alignment.padded(65, "int8") == 80 and alignment.padded(72, "int8") == 80
    assert alignment.aligned(72, "fp16") and not alignment.aligned(72, "int8")
    plan = alignment.plan([63, 64, 72])
    assert ("gemm", "int8", 72, 80) in plan and ("gemm", "fp16", 72, 72) in plan
    assert ("gemm", "fp16", 63, 64) in plan and ("conv3x3", "fp16", 63, 64) in plan
    assert not any(run != c and alignment.aligned(c, dtype) for _, dtype, c, run in plan)
    assert set(alignment.CHANNELS) >= {63, 64, 65, 72, 128}


def test_useful_work_is_what_a_padded_run_is_charged_with():
    pixels = 256 * 56 * 56
    assert alignment.useful_flops("gemm", 64, 256, 56) == 2 * pixels * 64 * 64
    assert alignment.useful_flops("conv3x3", 64, 256, 56) == 2 * pixels * 64 * 64 * 9


def test_series_compares_each_count_with_its_aligned_neighbour(alignment_doc):
    rows = {r["channels"]: r for r in alignment.series(alignment_doc, "gemm", "int8")}
    assert rows[63]["tflops"] is None and "multiple of 8" in rows[63]["error"]
    assert rows[63]["padded_tflops"] == 90.0 and rows[63]["vs_aligned_neighbour"] == pytest.approx(0.9)
    assert rows[72]["aligned_neighbour"] == 80 and rows[72]["vs_aligned_neighbour"] == pytest.approx(95 / 120)
    assert rows[64]["vs_aligned_neighbour"] is None  # an aligned count is the reference itself
    conv = {r["channels"]: r for r in alignment.series(alignment_doc, "conv3x3", "fp16")}
    assert conv[63]["vs_aligned_neighbour"] == pytest.approx(50 / 80)  # the faster of as-is and padded
    text = alignment.table(alignment_doc)
    assert "refused: gemm int8 C=63" in text and "%16!" in text and "0.90x" in text


def test_a_complete_document_is_valid_and_breakage_is_caught(alignment_doc):
    assert alignment.problems(alignment_doc) == []
    for breakage, message in [
        (lambda d: d["records"][1].update(tflops=1.0), "does not equal flops/median_s"),
        (lambda d: d["records"][1].update(padded_to=63), "padded_to must be larger"),
        (lambda d: d["records"][2].pop("check"), "correctness check"),
        (lambda d: d["records"][2].update(op="conv1x1"), "known op"),
        (lambda d: d.update(records=[d["records"][0]]), "no layer was measured"),
    ]:
        broken = copy.deepcopy(alignment_doc)
        breakage(broken)
        assert any(message in p for p in alignment.problems(broken)), message
        with pytest.raises(UserError):
            results.validate(broken, "x.json", alignment.SCHEMA)


@pytest.mark.parametrize("op, dtype", alignment.CASES)
def test_padding_keeps_the_useful_result(op, dtype):
    """The zero-padded layer computes exactly the unpadded one on the real channels (checked against float64)."""
    clock = microbench.WallClock()
    for c, run_c in ((65, 65), (65, alignment.padded(65, dtype))):
        rec = alignment.run_case(torch, op, dtype, c, run_c, torch.device("cpu"), clock, None, batch=1, size=6,
                                 budget_s=0.01, warmup_s=0.0)
        assert rec["check"]["passed"], rec
        assert rec["flops"] == alignment.useful_flops(op, 65, 1, 6)
        assert rec["executed_flops"] == alignment.useful_flops(op, run_c, 1, 6)
        if dtype == "int8":
            assert rec["check"]["rel_err"] == 0.0  # integer math is exact


def test_the_check_catches_a_wrong_product():
    a = torch.randint(-128, 128, (32, 16), dtype=torch.int8)
    w = torch.randint(-128, 128, (16, 16), dtype=torch.int8)
    out = torch._int_mm(a, w.t())
    assert alignment.check_gemm(torch, "int8", a, w, out, 16)["passed"]
    out[3, 4] += 1
    assert not alignment.check_gemm(torch, "int8", a, w, out, 16)["passed"]


def test_without_a_gpu_it_refuses_in_one_line(tmp_path):
    out = tmp_path / "alignment.json"
    proc = subprocess.run([sys.executable, "-m", "demos.gpu_speed.alignment", "--out", str(out)], cwd=ROOT,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": ""}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: no CUDA device") and len(proc.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_cpu_smoke_run_writes_a_valid_checked_result(tmp_path, capsys):
    out = tmp_path / "alignment_cpu.json"
    assert alignment.main(["--out", str(out), "--device", "cpu", "--channels", "63", "64", "--batch", "1",
                           "--size", "6", "--seconds-per-case", "0.01"]) == 0
    doc = results.load(out, alignment.SCHEMA)
    keys = {(r["op"], r["dtype"], r["channels"], r["padded_to"]) for r in doc["records"]}
    assert keys == {("gemm", "fp16", 63, None), ("gemm", "fp16", 63, 64), ("gemm", "fp16", 64, None),
                    ("gemm", "int8", 63, None), ("gemm", "int8", 63, 64), ("gemm", "int8", 64, None),
                    ("conv3x3", "fp16", 63, None), ("conv3x3", "fp16", 63, 64), ("conv3x3", "fp16", 64, None)}
    assert all(r["check"]["passed"] for r in doc["records"] if "tflops" in r)
    assert "smoke run, not a GPU measurement" in capsys.readouterr().out
    assert results.load_all(tmp_path, schema=alignment.SCHEMA) == []  # the page shows GPU results only
    assert alignment.main(["--out", str(out), "--device", "cpu", "--batch", "1", "--size", "4"]) == 2
    assert "more than 16" in capsys.readouterr().err
