"""``python -m demos.selfcheck``: exits 0 here, runs the TensorRT-RTX builds, skips the rest with reasons;
imports only what a machine has; fails (exit 1) when a path that could run is broken.

The CUDA-only checks run for real on the GPU machine (its JSON, when committed, is checked below); here
they run against the fake CUDA runtime of tests/trt/fakes.py, which enforces the stream lifetime of D1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from demos.selfcheck import checks
from demos.selfcheck import __main__ as cli
from demos.trt import buffers
from trt import fakes  # tests/trt/fakes.py

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "demos" / "selfcheck" / "results"
BARE = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None  # `import name` raises ImportError, find_spec finds nothing
from demos.selfcheck.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def _run(tmp_path, *args, blocked=()):
    code = ["-c", BARE.format(blocked=list(blocked))] if blocked else ["-m", "demos.selfcheck"]
    return subprocess.run([sys.executable, *code, *args], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "PYTHONPATH": str(REPO)})


@pytest.mark.slow
def test_cpu_machine_runs_the_rtx_builds_and_skips_the_rest(tmp_path):
    pytest.importorskip("tensorrt_rtx_bindings")
    proc = _run(tmp_path, "--json", "out.json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((tmp_path / "out.json").read_text())
    status = {c["name"]: c["status"] for c in doc["checks"]}
    rtx = [n for n in status if n.startswith("TensorRT-RTX build")]
    assert len(rtx) == 4 and all(status[n] == "passed" for n in rtx)
    assert all(s == "skipped" for n, s in status.items() if n not in rtx)  # no GPU, no TensorRT here
    assert all(c["detail"].startswith("needs ") for c in doc["checks"] if c["status"] == "skipped")
    int8 = next(c for c in doc["checks"] if c["name"] == "TensorRT-RTX build: INT8 (Q/DQ)")
    assert int8["metrics"]["dq_fed_layers"] == 2
    assert {"date", "host", "versions", "gpu"} <= set(doc["provenance"])
    assert doc["summary"] == {"passed": 4, "failed": 0, "skipped": len(status) - 4}
    names = {c["name"] for c in doc["environment"]}
    assert {"TensorRT", "TensorRT-RTX", "GPU", "CUDA", "pycuda", "cuda-python", "ONNX Runtime", "ModelOpt"} <= names
    assert "4 passed, 0 failed" in proc.stdout


def test_a_bare_machine_gets_a_table_not_a_traceback(tmp_path):
    # The GPU machine's python has no ONNX, TensorRT or TensorRT-RTX; a laptop may have nothing at all.
    proc = _run(tmp_path, "--json", "bare.json", blocked=("onnx", "onnxruntime", "torch", "tensorrt_rtx_bindings",
                                                          "tensorrt_rtx_libs", "ml_dtypes", "triton", "cupy"))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    doc = json.loads((tmp_path / "bare.json").read_text())
    assert doc["summary"]["passed"] == doc["summary"]["failed"] == 0


def test_a_broken_path_fails_the_run(monkeypatch, capsys):
    def broken(ctx):
        raise RuntimeError("cudaMallocAsync failed: cudaErrorInvalidResourceHandle")

    monkeypatch.setattr(checks, "CHECKS", [("CUDA buffers: cuda-python", broken),
                                           ("skipped one", lambda ctx: (_ for _ in ()).throw(checks.Skip("needs X")))])
    assert cli.main([]) == 1
    out = capsys.readouterr().out
    assert "CUDA buffers: cuda-python  failed   RuntimeError: cudaMallocAsync failed" in out
    assert "0 passed, 1 failed, 1 skipped" in out


def test_the_tables_fit_88_columns_and_keep_every_word():
    """Printed to a file (or shown on the Check your setup page) the tables fit 88 columns; a wide terminal
    gets one line per row."""
    from demos.selfcheck.environment import Component

    components = [Component("TensorRT", False, None, "`import tensorrt` failed (ModuleNotFoundError: No module "
                                                     "named 'tensorrt')"),
                  Component("ONNX Runtime", True, "1.24.4", "the numeric reference")]
    results = [checks.Result("TensorRT run: FP16 (strongly typed), cuda-python buffers", "skipped",
                             "needs TensorRT (see the environment table)"),
               checks.Result("TensorRT-RTX build: FP32", "failed", "RuntimeError: " + "x " * 60)]
    for text, rows in ((cli.format_environment(components, 88), components),
                       (cli.format_results(results, 88), results)):
        lines = text.splitlines()
        assert max(map(len, lines)) <= 88, text
        words = " ".join(text.split())
        assert all(" ".join(r.detail.split()) in words for r in rows), text
    env = cli.format_environment(components, 88).splitlines()
    assert env[1].startswith("TensorRT ") and env[2].strip().endswith("named 'tensorrt')")
    assert len(env[2]) - len(env[2].lstrip()) == env[1].index("`import")  # continues under its own column
    res = cli.format_results(results, 88).splitlines()
    assert res[0].split() == ["check", "result"] and res[2] == "    needs TensorRT (see the environment table)"
    wide = cli.format_results(results, 200).splitlines()
    assert wide[0].split() == ["check", "result", "detail"] and len(wide) == 4
    assert wide[1].endswith("skipped  needs TensorRT (see the environment table)")


def test_cuda_python_buffer_check_against_the_fake_runtime(monkeypatch):
    fake = fakes.FakeCudart()
    monkeypatch.setattr(buffers, "_cudart", lambda: fake)
    metrics = checks.exercise_buffers("cuda-python")
    assert metrics["round_trips"] == 16 and metrics["allocate_free_cycles"] == 4  # FP32, FP16, INT8, BF16 x 4 shapes
    assert fake.memory == {} and not any(fake.streams.values())


def test_the_buffer_check_catches_a_stream_destroyed_by_free(monkeypatch):
    # The D1 bug, reintroduced: free() destroying the stream must fail the check, not pass it.
    fake = fakes.FakeCudart()
    monkeypatch.setattr(buffers, "_cudart", lambda: fake)
    original = buffers.CudaPythonBuffers.free

    def free_and_destroy(self):
        original(self)
        fake.cudaStreamDestroy(self.stream)

    monkeypatch.setattr(buffers.CudaPythonBuffers, "free", free_and_destroy)
    with pytest.raises(RuntimeError, match="cudaErrorInvalidResourceHandle"):
        checks.exercise_buffers("cuda-python")


def test_committed_gpu_results_carry_provenance():
    files = sorted(RESULTS.glob("*.json"))
    if not files:
        pytest.skip("no GPU self-check result committed yet (the lead runs it on the GPU machine)")
    for path in files:
        doc = json.loads(path.read_text())
        prov = doc["provenance"]
        assert prov["date"] and prov["gpu"] and prov["gpu"].get("name") and prov["versions"]["python"]
        status = {c["name"]: c["status"] for c in doc["checks"]}
        assert status["CUDA buffers: torch"] == "passed" and status["CUDA buffers: cuda-python"] == "passed"
        assert doc["summary"]["failed"] == 0


def test_the_check_setup_page_shows_the_tables_as_printed_to_a_file():
    """The page's tables are what the self-check prints at 88 columns: they fit the content column
    without the page's wrapping of code blocks breaking their columns (D25)."""
    import re

    from demos.selfcheck.environment import Component

    page = (REPO / "docs" / "check-setup.md").read_text(encoding="utf-8")
    env_block, checks_block = re.findall(r"```text\n(.*?)```", page, re.S)[:2]
    assert max(len(line) for line in (env_block + checks_block).splitlines()) <= cli.DEFAULT_WIDTH
    lines = env_block.rstrip("\n").splitlines()
    starts = [lines[0].index(h) for h in ("usable", "version", "detail")]
    components = []
    for line in lines[1:]:
        if not line[:starts[0]].strip():  # a detail continued from the row above
            components[-1].detail += " " + line.strip()
            continue
        name, usable, version = (line[a:b].strip() for a, b in zip([0, *starts], starts))
        components.append(Component(name, usable == "yes", None if version == "-" else version,
                                    line[starts[2]:].strip()))
    assert cli.format_environment(components, cli.DEFAULT_WIDTH) == env_block.rstrip("\n")
