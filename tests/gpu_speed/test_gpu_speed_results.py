"""Result files: validation catches broken documents, writes are atomic, the table reads them right."""

import copy
import json
from pathlib import Path

import pytest

from demos.errors import UserError
from demos.gpu_speed import microbench, results


def _record(dtype, n, seconds):
    return {"dtype": dtype, "n": n, "unit": microbench.unit(dtype), "ops": 2 * n**3,
            "rate": 2 * n**3 / seconds / 1e12, "best_rate": 2 * n**3 / (0.9 * seconds) / 1e12,
            "median_s": seconds, "min_s": 0.9 * seconds,
            "check": {"passed": True, "rel_err": 0.0, "tolerance": 0.0}}


@pytest.fixture
def doc():
    """A structurally complete document. Its rates are arbitrary inputs for the table code, not results."""
    return {
        "schema": results.SCHEMA,
        "provenance": {"date": "2026-11-22T00:00:00+00:00", "versions": {"torch": "2.11.0"},
                       "gpu": {"name": "NVIDIA H200", "sm_count": 132, "driver": "1", "torch_cuda": "13.0",
                               "memory_gib": 139.8}},
        "settings": {"device": "cuda", "sizes": [4096, 8192]},
        "matmul": [_record("fp16", 4096, 2e-4), _record("fp16", 8192, 1.4e-3), _record("int8", 4096, 1e-4),
                   {"dtype": "int8", "n": 8192, "error": "RuntimeError: not supported"}],
        "memory": {"kind": "copy", "bytes_per_copy": 1 << 30, "bytes_moved": 2 << 30, "tbps": 4.0,
                   "best_tbps": 4.1},
    }


def test_a_complete_document_is_valid(doc):
    assert results.problems(doc) == []


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d.update(schema="other/1"), "schema"),
    (lambda d: d["provenance"].pop("date"), "provenance"),
    (lambda d: d["settings"].update(device="tpu"), "settings.device"),
    (lambda d: d["provenance"].update(gpu=None), "GPU name"),
    (lambda d: d.update(matmul=[]), "non-empty"),
    (lambda d: d["matmul"][0].update(rate=-1.0), "rate must be"),
    (lambda d: d["matmul"][0].update(rate=123.0), "2*n^3/median_s"),
    (lambda d: d["matmul"][0].update(min_s=1.0), "min_s is larger"),
    (lambda d: d["matmul"][0].pop("check"), "correctness check"),
    (lambda d: d["matmul"][0].update(dtype="fp4"), "known dtype"),
    (lambda d: d.update(matmul=[{"dtype": "fp16", "n": 64, "error": "x"}]), "no matmul case was measured"),
    (lambda d: d["memory"].pop("tbps"), "memory"),
])
def test_broken_documents_are_rejected(doc, breakage, message):
    broken = copy.deepcopy(doc)
    breakage(broken)
    found = results.problems(broken)
    assert any(message in p for p in found), found
    with pytest.raises(UserError) as err:
        results.validate(broken, "x.json")
    assert "\n" not in str(err.value) and "x.json" in str(err.value)


def test_not_an_object_is_rejected():
    assert results.problems([1, 2]) == ["the top level is not a JSON object"]


def test_write_refuses_an_invalid_document_and_leaves_nothing(tmp_path, doc):
    doc["matmul"] = []
    with pytest.raises(UserError):
        results.write(tmp_path / "r.json", doc)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_leaves_the_old_file(tmp_path, doc, monkeypatch):
    target = tmp_path / "r.json"
    results.write(target, doc)
    before = target.read_bytes()

    def fail_halfway(self, text, encoding=None):
        Path.open(self, "w", encoding=encoding).write(text[: len(text) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", fail_halfway)
    doc["memory"]["tbps"] = 3.0
    with pytest.raises(OSError):
        results.write(target, doc)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_load_reports_bad_files_in_one_line(tmp_path):
    with pytest.raises(UserError, match="not found"):
        results.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="not valid JSON"):
        results.load(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"schema": "x"}), encoding="utf-8")
    with pytest.raises(UserError, match="not a valid demos.gpu_speed result"):
        results.load(wrong)


def test_best_rates_and_table(doc):
    best = results.best_rates(doc)
    assert best["fp16"]["n"] == 8192 and best["int8"]["n"] == 4096
    text = results.table(doc)
    lines = text.splitlines()
    assert "datasheet" in lines[0] and "n=4096" in lines[0] and "n=8192" in lines[0]
    fp16 = next(line for line in lines if line.startswith("fp16"))
    expected_ratio = best["fp16"]["rate"] / 989.5
    assert f"{expected_ratio:.0%}" in fp16 and "989.5" in fp16
    assert "failed" in next(line for line in lines if line.startswith("int8"))
    assert "4.00 TB/s" in text and "4.8 TB/s" in text and f"{4.0 / 4.8:.0%}" in text


def test_failed_checks_are_flagged(doc):
    doc["matmul"][0]["check"]["passed"] = False
    text = results.table(doc)
    assert "! result check failed for: fp16 n=4096" in text


def test_describe_names_hardware_versions_and_date(doc):
    line = results.describe(doc)
    for part in ("NVIDIA H200", "132 SMs", "driver 1", "CUDA 13.0", "PyTorch 2.11.0", "2026-11-22"):
        assert part in line
