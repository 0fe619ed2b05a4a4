"""The command line on a machine without a GPU: a clean refusal, and the CPU smoke path end to end."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from demos.gpu_speed import __main__ as cli
from demos.gpu_speed import microbench, results

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "demos.gpu_speed", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_without_a_gpu_it_refuses_in_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "gpu_speed.json"
    proc = run_cli("--out", str(out), env_extra={"CUDA_VISIBLE_DEVICES": ""})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no CUDA device: ")
    assert "Traceback" not in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--device", "cpu", "--sizes", "100"], "multiple of 16"),
    (["--device", "cpu", "--dtypes", "fp4"], "choose from"),
    (["--device", "cpu", "--copy-mib", "0"], "--copy-mib"),
    (["--device", "cpu", "--seconds-per-case", "0"], "--seconds-per-case"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, args, message):
    out = tmp_path / "r.json"
    assert cli.main(["--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists()


def test_out_must_be_a_json_file(tmp_path, capsys):
    assert cli.main(["--out", str(tmp_path), "--device", "cpu"]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert cli.main(["--out", str(tmp_path / "r.txt"), "--device", "cpu"]) == 2
    assert "*.json" in capsys.readouterr().err


@pytest.mark.slow
def test_cpu_smoke_run_writes_a_valid_checked_result(tmp_path):
    out = tmp_path / "sub" / "cpu.json"
    proc = run_cli("--out", str(out), "--device", "cpu", "--sizes", "32", "64", "--copy-mib", "4",
                   "--seconds-per-case", "0.05")
    assert proc.returncode == 0, proc.stderr
    doc = results.load(out)  # validates the schema
    assert doc["settings"]["device"] == "cpu" and doc["provenance"]["gpu"] is None
    assert f"\"{socket.gethostname()}\"" not in out.read_text(encoding="utf-8")  # committed files: no host name
    recs = {(r["dtype"], r["n"]): r for r in doc["matmul"]}
    assert set(recs) == {(c, n) for c in microbench.CASES for n in (32, 64)}
    for rec in recs.values():
        assert rec["check"]["passed"], rec
        assert rec["rate"] == pytest.approx(2 * rec["n"] ** 3 / rec["median_s"] / 1e12)
        assert rec["min_s"] <= rec["median_s"]
    assert recs[("int8", 64)]["check"]["rel_err"] == 0.0
    assert recs[("fp32", 64)]["check"]["rel_err"] < 1e-5
    assert recs[("fp16", 64)]["check"]["rel_err"] > recs[("fp32", 64)]["check"]["rel_err"]
    assert doc["memory"]["copy_verified"] and doc["memory"]["bytes_moved"] == 2 * (4 << 20)
    for case in microbench.CASES:
        assert case in proc.stdout
    assert "smoke run, not a GPU measurement" in proc.stdout
    assert [p.name for p in out.parent.iterdir()] == ["cpu.json"]  # no temporary files left behind
    # The page only shows GPU results: a CPU smoke file next to them is ignored.
    assert results.load_all(out.parent) == []
    assert [p.name for p, _ in results.load_all(out.parent, device="cpu")] == ["cpu.json"]
