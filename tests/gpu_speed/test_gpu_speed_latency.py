"""demos.gpu_speed.latency: the plan, the statistics, the result schema, what the page reads from it, and the
command line (a clean refusal without a GPU, bad arguments, a CPU smoke run, resuming a cut-short sweep)."""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from demos.errors import UserError
from demos.gpu_speed import latency, results

ROOT = Path(__file__).resolve().parents[2]


def test_plan_measures_batch_1_first_and_compiles_last():
    order = latency.plan(list(latency.CONFIGS), [1, 8, 32])
    assert order[:len(latency.CONFIGS)] == [(c, 1) for c in latency.CONFIGS]
    rest = order[len(latency.CONFIGS):]
    first_compiled = next(i for i, (c, _) in enumerate(rest) if latency.CONFIGS[c].compiled)
    assert all(latency.CONFIGS[c].compiled for c, _ in rest[first_compiled:])
    assert sorted(order) == sorted((c, b) for c in latency.CONFIGS for b in (1, 8, 32)
                                   if b == 1 or c not in latency.FIRST_BATCH_ONLY)
    full = latency.plan(list(latency.CONFIGS), [1, 8, 32], full_sweep=True)
    assert sorted(full) == sorted((c, b) for c in latency.CONFIGS for b in (1, 8, 32))


def test_configs_cover_the_issue():
    cfg = latency.CONFIGS
    assert {c.dtype for c in cfg.values()} == {"fp32", "fp16"}
    assert cfg["fp32_eager"].executor == "eager" and cfg["fp16_cuda_graph"].graphed
    assert cfg["fp16_compile"].compiled and not cfg["fp16_compile"].graphed
    assert cfg["fp16_compile_cuda_graph"].compile_mode == "reduce-overhead" and cfg["fp16_compile_cuda_graph"].graphed
    assert latency.BATCHES == (1, 8, 32, 128, 256)


def test_percentiles_and_sample_count():
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    s = latency.summarize(values)
    assert s["p50"] == pytest.approx(50.5) and s["p99"] == pytest.approx(99.01) and s["min"] == pytest.approx(1.0)
    assert s["p50"] <= s["p90"] <= s["p99"] <= s["max"]
    assert latency.sample_count(1e-3, 2.0) == 2000  # capped
    assert latency.sample_count(0.1, 2.0) == 200  # at least 200 requests for a p99
    assert latency.sample_count(5e-3, 2.0) == 400


def test_a_complete_document_is_valid(latency_doc):
    assert latency.problems(latency_doc) == []


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d.update(schema="demos.gpu_speed/1"), "schema"),
    (lambda d: d.update(records=[]), "non-empty"),
    (lambda d: d["records"][0].update(config="fp8_eager"), "known config"),
    (lambda d: d["records"][0].update(batch=0), "positive integer batch"),
    (lambda d: d["records"][0]["latency_ms"].update(p99=1.0), "not ordered"),
    (lambda d: d["records"][0]["latency_ms"].pop("p50"), "latency_ms needs"),
    (lambda d: d["records"][0].update(throughput_images_per_s=float("nan")), "throughput"),
    (lambda d: d["records"][0].pop("check"), "correctness check"),
    (lambda d: d["records"].append(copy.deepcopy(d["records"][0])), "measured twice"),
    (lambda d: d.update(records=[d["records"][-1]]), "no configuration was measured"),
])
def test_broken_documents_are_rejected(latency_doc, breakage, message):
    broken = copy.deepcopy(latency_doc)
    breakage(broken)
    found = latency.problems(broken)
    assert any(message in p for p in found), found
    with pytest.raises(UserError, match="not a valid demos.gpu_speed.latency result"):
        results.validate(broken, "x.json", latency.SCHEMA)


def test_batch1_summary_sweep_and_table(latency_doc):
    rows = {r["config"]: r for r in latency.batch1_summary(latency_doc)}
    assert set(rows) == {"fp32_eager", "fp16_eager", "fp16_cuda_graph"}  # the failed compile is left out
    assert rows["fp32_eager"]["speedup_vs_fp32_eager"] == pytest.approx(1.0)
    assert rows["fp16_cuda_graph"]["speedup_vs_fp32_eager"] == pytest.approx(6.0)
    assert rows["fp16_cuda_graph"]["gpu_p50_ms"] == pytest.approx(0.8)
    sweep = latency.sweep(latency_doc, "fp16_cuda_graph")
    assert [r["batch"] for r in sweep] == [1, 8, 256] and sweep[-1]["images_per_s"] == 13000.0
    text = latency.table(latency_doc)
    assert "failed: BackendCompilerFailed" in text and "ok (1.0e-04)" in text
    assert text.index("fp32_eager") < text.index("fp16_cuda_graph")
    latency_doc["records"][0]["check"]["passed"] = False
    assert "FAILED" in latency.table(latency_doc)


def test_results_folder_keeps_each_kind_apart(tmp_path, latency_doc):
    from demos.gpu_speed import alignment

    results.write(tmp_path / "latency_h100.json", latency_doc, latency.SCHEMA)
    assert [p.name for p, _ in results.load_all(tmp_path, schema=latency.SCHEMA)] == ["latency_h100.json"]
    assert results.load_all(tmp_path) == [] and results.load_all(tmp_path, schema=alignment.SCHEMA) == []
    (tmp_path / "notes.json").write_text(json.dumps({"schema": "something/else"}), encoding="utf-8")
    with pytest.raises(UserError, match="notes.json is not a demos.gpu_speed result"):
        results.load_all(tmp_path, schema=latency.SCHEMA)


def _cli(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "demos.gpu_speed.latency", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def test_without_a_gpu_it_refuses_in_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "latency.json"
    proc = _cli("--out", str(out), env_extra={"CUDA_VISIBLE_DEVICES": ""})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no CUDA device: ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--configs", "fp8_eager"], "choose from"),
    (["--batches", "1", "1"], "distinct positive"),
    (["--batches", "0"], "distinct positive"),
    (["--time-budget", "0"], "must be positive"),
    (["--image-size", "16"], "at least 32"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, args, message):
    out = tmp_path / "r.json"
    assert latency.main(["--out", str(out), "--device", "cpu", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists()


SMOKE = ("--device", "cpu", "--image-size", "32", "--seconds-per-case", "0.01", "--min-samples", "5",
         "--compile-backend", "eager")


@pytest.mark.slow
def test_cpu_smoke_run_then_resume_adds_only_what_is_missing(tmp_path):
    out = tmp_path / "sub" / "latency_cpu.json"
    first = _cli("--out", str(out), *SMOKE, "--configs", "fp32_eager", "fp32_cuda_graph", "fp16_compile",
                 "--batches", "1")
    assert first.returncode == 0, first.stderr
    doc = results.load(out, latency.SCHEMA)
    assert doc["settings"]["device"] == "cpu" and doc["provenance"]["gpu"] is None
    recs = {(r["config"], r["batch"]): r for r in doc["records"]}
    assert recs[("fp32_cuda_graph", 1)]["skipped"] == "CUDA graphs need a CUDA device"
    for key in (("fp32_eager", 1), ("fp16_compile", 1)):
        rec = recs[key]
        assert rec["check"]["passed"], rec
        assert rec["samples"] >= 5 and rec["latency_ms"]["min"] <= rec["latency_ms"]["p50"]
    assert recs[("fp32_eager", 1)]["check"]["rel_l2_vs_float64"] < 1e-5  # FP32 against float64
    assert recs[("fp16_compile", 1)]["check"]["rel_l2_vs_float64"] > 1e-5  # FP16 rounding shows
    assert recs[("fp16_compile", 1)]["setup_s"] > 0  # the compile is timed apart from the requests
    assert "smoke run, not a GPU measurement" in first.stdout
    kept = recs[("fp32_eager", 1)]

    second = _cli("--out", str(out), *SMOKE, "--configs", "fp32_eager", "--batches", "1", "2", "--resume")
    assert second.returncode == 0, second.stderr
    assert "resuming" in second.stdout and "2 measurement(s) kept" in second.stdout
    doc2 = results.load(out, latency.SCHEMA)
    recs2 = {(r["config"], r["batch"]): r for r in doc2["records"]}
    assert recs2[("fp32_eager", 1)] == kept and ("fp16_compile", 1) in recs2  # kept, not measured again
    assert "latency_ms" in recs2[("fp32_eager", 2)]
    assert len(doc2["earlier_calls"]) == 1 and doc2["earlier_calls"][0]["date"] == doc["provenance"]["date"]
    assert [p.name for p in out.parent.iterdir()] == ["latency_cpu.json"]  # no temporary files left

    other = _cli("--out", str(out), *SMOKE[:-4], "--image-size", "64", "--resume", "--configs", "fp32_eager")
    assert other.returncode == 2 and "image_size=32" in other.stderr


@pytest.mark.slow
def test_a_spent_time_budget_measures_nothing_and_writes_nothing(tmp_path):
    out = tmp_path / "latency.json"
    proc = _cli("--out", str(out), *SMOKE, "--configs", "fp32_eager", "--batches", "1", "--time-budget", "1e-9")
    assert proc.returncode == 2
    assert "no configuration could be measured" in proc.stderr and "time budget" in proc.stdout
    assert not out.exists()
