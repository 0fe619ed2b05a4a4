"""Issue 16: files, signals, locks, values and checkpoints. Each test reproduces one reported case.

* temporary files: the mkstemp/try window, SIGTERM, stale files of killed runs;
* the workdir: a file, read-only, a full disk (refused before the slow export), two stages at once;
* values that must be refused, with one line and no file changed;
* strict JSON; caches with the right key but the wrong rows; torchvision checkpoints that are not torchvision's.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from demos import files
from demos.errors import UserError, run_cli
from demos.resnet50 import bench, workdir
from demos.resnet50.__main__ import main

REPO = Path(__file__).resolve().parents[2]


def one_line(capsys) -> str:
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], err
    return err[0]


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- Temporary files ---------------------------------------------------------------------------------------

def test_interrupt_right_after_mkstemp_leaves_no_file(tmp_path, monkeypatch):
    """A Ctrl-C that arrives as mkstemp returns (before ``try``) used to leave the hidden temporary file."""
    real = files.tempfile.mkstemp

    def mkstemp_then_ctrl_c(*args, **kwargs):
        made = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # delivered while the file exists but before its name is kept
        return made

    monkeypatch.setattr(files.tempfile, "mkstemp", mkstemp_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        files.write_text(tmp_path / "out.txt", "x" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    """SIGTERM used to kill the process with its hidden ``.name.*`` temporary file (as large as the output)."""
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from demos import files
        from demos.errors import run_cli

        def write():
            with files.atomic_path({str(tmp_path / "model.onnx")!r}) as tmp:
                tmp.write_bytes(b"x" * 1_000_000)
                print("writing", flush=True)
                time.sleep(60)

        sys.exit(run_cli(write))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    assert len(list(tmp_path.iterdir())) == 1  # the temporary file
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    assert err.strip().splitlines() == ["error: terminated by SIGTERM; no partial files were kept"]
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_of_killed_runs_are_removed_at_start(tmp_path, capsys):
    work = tmp_path / "w"
    work.mkdir()
    dead, alive = dead_pid(), os.getppid()
    stale = work / f".fp32.onnx.{dead}{files.PARTIAL}abc123.onnx"
    stale.write_bytes(b"x" * 1000)
    (work / "results").mkdir()
    stale_record = work / "results" / f".eval_fp32_ort.json.{dead}{files.PARTIAL}x.tmp"
    stale_record.write_text("{")
    running = work / f".fp16.onnx.{alive}{files.PARTIAL}def456.onnx"  # a live writer's file is kept
    running.write_bytes(b"y")
    user_file = work / ".notes.txt"
    user_file.write_text("mine")
    assert main(["--workdir", str(work), "report"]) == 2  # no results: fails, but after the clean-up
    assert "no results" in one_line(capsys)
    assert not stale.exists() and not stale_record.exists()
    assert running.exists() and user_file.exists()


# --- The workdir -----------------------------------------------------------------------------------------

@pytest.fixture
def export_must_not_run(monkeypatch):
    """The export takes seconds; a folder that cannot take its output must be refused before it starts."""
    from demos.resnet50 import export

    def fail(*a, **k):
        raise AssertionError("the export ran although the workdir cannot be written")

    monkeypatch.setattr(export, "export", fail)


def test_workdir_that_is_a_file(tmp_path, capsys, export_must_not_run):
    f = tmp_path / "file"
    f.write_text("not a folder")
    assert main(["--workdir", str(f), "export", "--model", "efficientnet_lite0"]) == 2
    assert "is a file, not a folder" in one_line(capsys)
    assert main(["--workdir", str(f / "sub"), "export", "--model", "efficientnet_lite0"]) == 2
    assert "is a file, not a folder" in one_line(capsys)
    assert f.read_text() == "not a folder"


@contextlib.contextmanager
def _tmpfs(path: Path, options: str):
    """A real small or read-only file system (needs root); skips where it cannot be mounted."""
    path.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_read_only_workdir_is_refused_before_the_export(tmp_path, capsys, export_must_not_run):
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        ctx = contextlib.nullcontext(ro)
    else:
        ctx = _tmpfs(tmp_path / "ro", "ro,size=1m")
    with ctx as ro:
        assert main(["--workdir", str(ro), "export", "--model", "efficientnet_lite0"]) == 2
        assert "not writable (read-only)" in one_line(capsys)


def test_full_disk_is_refused_before_the_export(tmp_path, capsys, export_must_not_run):
    with _tmpfs(tmp_path / "small", "size=1m") as small:
        t0 = time.perf_counter()
        assert main(["--workdir", str(small / "w"), "export", "--model", "efficientnet_lite0"]) == 2
        line = one_line(capsys)
        assert "MiB free" in line and "needs about 256 MiB" in line
        assert time.perf_counter() - t0 < 5
        assert not (small / "w").exists()  # the folder made for the stage is removed again


def test_no_space_while_writing_is_one_line(tmp_path, capsys):
    """A disk that fills up during a write (after the check) is one line too, and leaves no temporary file."""
    with _tmpfs(tmp_path / "small", "size=64k") as small:
        def write_big():
            files.write_bytes(small / "big.bin", b"x" * 200_000)

        assert run_cli(write_big) == 2
        assert "No space left on device" in one_line(capsys)
        assert list(small.iterdir()) == []


def test_two_stages_in_one_workdir_the_second_is_busy(tmp_path, capsys):
    work = tmp_path / "w"
    with workdir.Workdir(work).session("ptq"):
        assert main(["--workdir", str(work), "report"]) == 2
        line = one_line(capsys)
        assert "is busy: stage ptq (pid " in line and "wait for it" in line
    assert main(["--workdir", str(work), "report"]) == 2  # free again: now the stage's own error
    assert "no results" in one_line(capsys)
    assert not work.exists()  # made for the stage, empty again: removed (no lock file left behind)


def test_busy_across_processes(tmp_path):
    work = tmp_path / "w"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from demos.resnet50.workdir import Workdir
        with Workdir({str(work)!r}).session("qat"):
            print("holding", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        proc = subprocess.run([sys.executable, "-m", "demos.resnet50", "--workdir", str(work), "report"],
                              capture_output=True, text=True, cwd=REPO, timeout=120)
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [
            f"error: --workdir {work} is busy: stage qat (pid {holder.pid}) is running in it; wait for it to "
            "finish or use another --workdir"]
    finally:
        holder.kill()
        holder.wait()


# --- Values that must be refused -----------------------------------------------------------------------

BAD_VALUES = [
    ("bench", "--batch", "0"), ("bench", "--batch", "-1"), ("bench", "--repeats", "0"),
    ("bench", "--iterations", "0"), ("bench", "--threads", "-3"), ("bench", "--warmup", "-1"),
    ("bench", "--time-budget", "nan"), ("fp16", "--data-max", "nan"), ("fp16", "--data-max", "-1"),
    ("build", "--workspace-gib", "-1"), ("build", "--min-batch", "0"), ("build", "--workspace-gib", "inf"),
    ("export", "--opset", "99"), ("export", "--opset", "5"), ("qat", "--lr", "nan"), ("qat", "--lr", "0"),
    ("qat", "--epochs", "0"), ("qat", "--label-weight", "-1"), ("ptq", "--percentile", "101"),
    ("ptq", "--percentile", "nan"), ("ptq", "--calib-count", "-5"), ("eval", "--eval-count", "0"),
    ("eval", "--batch", "0"), ("eval", "--threads", "0"),
]


@pytest.mark.parametrize("stage,option,value", BAD_VALUES, ids=[" ".join(v) for v in BAD_VALUES])
def test_bad_value_is_one_line_and_changes_nothing(stage, option, value, tmp_path, capsys):
    work = tmp_path / "w"
    (work / "results").mkdir(parents=True)
    keep = work / "results" / "bench_ort.json"
    keep.write_text('{"stage": "bench", "valid": true}\n')  # `bench --batch 0` used to replace this
    assert main(["--workdir", str(work), stage, option, value]) == 2
    line = one_line(capsys)
    assert option in line or "opset" in line
    assert keep.read_text() == '{"stage": "bench", "valid": true}\n'
    assert sorted(p.name for p in work.rglob("*")) == ["bench_ort.json", "results"]


def test_build_profile_must_be_ordered(tmp_path, capsys):
    assert main(["--workdir", str(tmp_path), "build", "--min-batch", "8", "--opt-batch", "4"]) == 2
    assert "--min-batch <= --opt-batch <= --max-batch" in one_line(capsys)


def test_torchscript_opset_range(tmp_path, capsys):
    assert main(["--workdir", str(tmp_path), "export", "--exporter", "torchscript", "--opset", "20"]) == 2
    assert "torchscript exporter writes opsets 9 to 17" in one_line(capsys)


def test_qat_that_diverges_writes_no_model():
    """``qat --lr nan`` used to train into NaN, write the NaN model and bare NaN into the JSON. The option is
    refused (above); a loss that still becomes NaN or infinite stops the stage before anything is exported."""
    import torch

    from demos.resnet50 import qat

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 5))
    teacher = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 5))
    x = np.random.default_rng(0).standard_normal((8, 3, 2, 2)).astype(np.float32)
    y = np.zeros(8, np.int64)
    x[5, 0, 0, 0] = np.inf  # the second batch: the first step trains, the second has an infinite loss
    with pytest.raises(UserError, match="QAT diverged: the loss is (nan|inf) at step 2; lower --lr"):
        qat.finetune(model, teacher, x, y, epochs=1, batch=4, lr=1e-3, progress=False)
    with pytest.raises(UserError, match="must be positive"):
        qat.finetune(model, teacher, x, y, lr=float("nan"), progress=False)


def test_bench_defaults_in_help_are_the_ones_used(tmp_path, monkeypatch, capsys):
    """``bench --help`` used to understate its defaults (nothing for --iterations, 0 read as 20...)."""
    from demos.resnet50.__main__ import parser

    monkeypatch.setenv("COLUMNS", "400")  # no line breaks inside "torch-cpu"
    help_text = " ".join(parser("bench")._subparsers._group_actions[0].choices["bench"].format_help().split())
    for table in (bench.DEFAULT_ITERATIONS, bench.DEFAULT_WARMUP):
        assert bench._per_backend(table) in help_text
    assert "batch sizes (default 8 for ort, 8 for torch-cpu, 256 for torch-cuda, 1 8 32 128 for trt)" in help_text
    assert f"(default {bench.DEFAULT_REPEATS})" in help_text and f"(default {bench.DEFAULT_THREADS})" in help_text
    seen = []
    monkeypatch.setattr(bench, "bench_torch", lambda config, b, it, wu, rep, device: seen.append((b, it, wu, rep)) or {
        "backend": "torch-cpu", "variant": config, "batch": b, "images_per_s": 1.0,
        "latency_ms": {"p50": 1.0, "p90": 1.0, "p99": 1.0}})
    assert main(["--workdir", str(tmp_path), "bench", "--backend", "torch-cpu"]) == 0
    assert seen == [(bench.DEFAULT_BATCHES["torch-cpu"][0], bench.DEFAULT_ITERATIONS["torch-cpu"],
                     bench.DEFAULT_WARMUP["torch-cpu"], bench.DEFAULT_REPEATS)]
    assert main(["--workdir", str(tmp_path), "bench", "--backend", "torch-cpu", "--warmup", "0"]) == 0
    assert seen[-1][2] == 0  # an explicit 0 is 0, not the default


def test_bench_warns_under_load(tmp_path, monkeypatch, capsys):
    assert bench.load_warning(1.1, 2) and bench.load_warning(1.0, 2) is None and bench.load_warning(3.9, 8) is None
    monkeypatch.setattr(bench.os, "getloadavg", lambda: (3.2, 2.0, 1.0))
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(bench, "bench_torch", lambda config, b, it, wu, rep, device: {
        "backend": "torch-cpu", "variant": config, "batch": b, "images_per_s": 1.0,
        "latency_ms": {"p50": 1.0, "p90": 1.0, "p99": 1.0}})
    assert main(["--workdir", str(tmp_path), "bench", "--backend", "torch-cpu"]) == 0
    assert "warning: load average 3.2 on 2 CPUs" in capsys.readouterr().out
    assert "unreliable" in files.read_json(tmp_path / "results" / "bench_torch-cpu.json")["load_warning"]


# --- JSON and caches ---------------------------------------------------------------------------------------

def test_json_is_strict(tmp_path):
    path = tmp_path / "r.json"
    files.write_json(path, {"loss": float("nan"), "x": np.float32("inf"), "v": np.array([1.0, -np.inf])})
    assert json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"bare {c}")) == \
        {"loss": None, "x": None, "v": [1.0, None]}
    path.write_text('{"loss": NaN}')
    with pytest.raises(UserError, match="is not valid JSON"):
        files.read_json(path)


def test_cache_with_the_right_key_but_wrong_rows(tmp_path):
    files.save_cache(tmp_path / "c.npz", {"k": 1}, {"logits": np.zeros((3, 1000), np.float32)})
    assert files.load_cache(tmp_path / "c.npz", {"k": 1}, rows={"logits": 3}) is not None
    with pytest.raises(UserError, match=r"is inconsistent \(logits: 3 rows, expected 8\); delete it"):
        files.load_cache(tmp_path / "c.npz", {"k": 1}, rows={"logits": 8})


# --- torchvision checkpoints -------------------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"\x00 truncated download", None], ids=["corrupt", "other weights"])
def test_cached_checkpoint_is_verified(content, tmp_path, monkeypatch, capsys):
    """A file in the torch hub cache used to be loaded unverified: random weights got labelled IMAGENET1K_V1,
    and a corrupt file was reported as "could not download"."""
    import torch

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    ckpt = tmp_path / "torch" / "hub" / "checkpoints" / "resnet50-0676ba61.pth"
    ckpt.parent.mkdir(parents=True)
    if content is None:  # a well-formed state dict that is not torchvision's file
        torch.save({"fc.bias": torch.zeros(1000)}, ckpt)
    else:
        ckpt.write_bytes(content)
    from demos import models

    with pytest.raises(UserError, match="is not torchvision's file .* delete it and rerun"):
        models.build("resnet50", "imagenet")
    assert main(["--workdir", str(tmp_path / "w"), "export", "--model", "resnet50"]) == 2
    line = one_line(capsys)
    assert "torchvision publishes 0676ba61" in line and "could not download" not in line
    assert not (tmp_path / "w" / "fp32.onnx").exists()



def test_calib_study_ctrl_c_is_one_line(tmp_path, monkeypatch, capsys):
    """``calib_study`` used to show a KeyboardInterrupt traceback (it did not go through run_cli)."""
    from demos.resnet50 import calib_study

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(calib_study, "run_study", interrupted)
    out = tmp_path / "study.json"
    assert calib_study.main(["--onnx", str(tmp_path / "fp32.onnx"), "--workdir", str(tmp_path / "w"),
                             "--out", str(out)]) == 130
    assert one_line(capsys) == "error: interrupted (no partial files were kept)"
    assert not out.exists()
    assert calib_study.main(["--onnx", "x.onnx", "--out", str(out), "--calib-images", "0"]) == 2
    assert "--calib-images: must be positive, got 0" in one_line(capsys)
