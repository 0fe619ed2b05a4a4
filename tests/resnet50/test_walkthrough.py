"""The ResNet50 walkthrough page (gallery/resnet50/plot_resnet50_walkthrough.py) says what it runs.

* every command the page executes through ``cli(...)`` is shown in its narrative, as the reader would type it;
* its "Copy this" block (``# test: run``) is the pipeline in order (it is run from the rendered page by
  tests/sitebuild/test_copy_this.py);
* every error the page lists as a common error is one ``error:`` line and a non-zero exit on the real
  command line, and so is the failed ResNet50 weights download on a machine without internet access.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from paddle_style_guide.trt_api import blocks

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "gallery" / "resnet50" / "plot_resnet50_walkthrough.py"
PAGE_WORKDIR = "build/walkthrough"
PROG = "python -m demos.resnet50"


def _narrative() -> str:
    """The page's reST narrative: the docstring and the ``# %%`` comment blocks, without the ``# ``."""
    text = PAGE.read_text(encoding="utf-8")
    lines = [ast.get_docstring(ast.parse(text)) or ""]
    for line in text.splitlines():
        if line.startswith("# ") or line == "#":
            lines.append(line[2:])
    return "\n".join(lines)


def _console_blocks(narrative: str) -> list[list[str]]:
    """Lines of each ``.. code-block:: console`` of the narrative (indentation removed)."""
    out, current = [], None
    for line in narrative.splitlines():
        if line.strip() == ".. code-block:: console":
            current = []
            out.append(current)
        elif current is not None:
            if line.startswith("   ") or not line.strip():
                if line.strip() or current:
                    current.append(line[3:])
            else:
                current = None
    return [[ln for ln in b if ln.strip()] for b in out]


def _cli_calls() -> list[tuple[list[str], str, int]]:
    """(argv, workdir, expected exit) of every ``cli(...)`` call on the page; ``MODEL`` as on this machine."""
    calls = []
    for node in ast.walk(ast.parse(PAGE.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "cli":
            argv = []
            for a in node.args:
                if isinstance(a, ast.Name) and a.id == "MODEL":
                    argv.append("efficientnet_lite0")
                elif isinstance(a, ast.Starred):
                    argv.append("<extra>")
                else:
                    argv.append(ast.literal_eval(a))
            kw = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            calls.append((argv, kw.get("workdir", PAGE_WORKDIR), kw.get("expect", 0)))
    return calls


def test_every_executed_stage_is_shown_as_typed():
    shown = {line[2:] for block in _console_blocks(_narrative()) for line in block if line.startswith("$ ")}
    stages = [c for c in _cli_calls() if c[2] == 0]
    assert [argv[0] for argv, _, _ in stages] == ["export", "fp16", "ptq", "qat", "build", "eval", "bench", "report"]
    for argv, workdir, _ in stages:
        typed = " ".join([PROG, "--workdir", workdir, *argv])
        if argv[-1] == "<extra>":  # the shell expands the glob into the committed files
            typed = typed.replace("<extra>", "demos/resnet50/results/bench_gpu_*.json")
        assert typed in shown, f"the page runs `{typed}` but does not show it"


def _copy_this_block() -> blocks.Block:
    runnable = [b for b in _console_blocks(_narrative()) if b and b[0].strip() == "# test: run"]
    assert len(runnable) == 1, "the page should have exactly one `# test: run` console block (Copy this)"
    return blocks.Block(PAGE, 0, "shell", "\n".join(runnable[0]), {"test": "run"})


def test_copy_this_block_is_the_pipeline_in_order():
    """The block is what the page runs, in the same order and under the git-ignored build/.  That it runs
    and what its report holds is tested on the rendered page, in an empty folder with the tutorial's wheel
    (tests/sitebuild/test_copy_this.py::test_copy_this_runs_in_an_empty_folder)."""
    commands = blocks.shell_commands(_copy_this_block())
    assert [shlex.split(c)[5] for c in commands] == ["export", "fp16", "ptq", "qat", "build", "eval", "bench",
                                                       "report"]
    workdirs = set()
    for command in commands:
        argv = blocks.python_argv(command, sys.executable)
        assert argv[1:3] == ["-m", "demos.resnet50"] and argv[3] == "--workdir", command
        workdirs.add(argv[4])
    assert len(workdirs) == 1 and next(iter(workdirs)).startswith("build/"), workdirs


def _run_cli(argv, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "demos.resnet50", *argv], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def _assert_one_line_error(proc, code):
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("Downloading: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


ERROR_CALLS = [c for c in _cli_calls() if c[2] != 0]
# What each listed mistake must be reported as (the page prints the same lines).
EXPECTED = {"fp16": "ONNX model not found", "--data": "image folder not found", "--weights": "weights file not found",
            "trt": "needs TensorRT and a GPU", "--calib-count": "must be positive"}


def test_the_page_lists_errors():
    assert len(ERROR_CALLS) == len(EXPECTED)
    assert "Common errors and fixes" in _narrative()


@pytest.mark.slow
@pytest.mark.parametrize("argv,workdir,code", ERROR_CALLS, ids=[" ".join(c[0]) for c in ERROR_CALLS])
def test_common_error_is_one_line(argv, workdir, code, eff, tmp_path):
    if "trt" in argv:
        from demos.trt import runtime

        if runtime.unavailable_reason() is None:
            pytest.skip("this machine runs TensorRT engines")
    # The page's workdir holds an exported model at that point: give the commands the same situation.
    # (the session's EfficientNet-Lite0 export, made by the same `export` command)
    root = tmp_path / "errors"
    (root / PAGE_WORKDIR).mkdir(parents=True)
    (root / PAGE_WORKDIR / "fp32.onnx").write_bytes(eff.path("fp32.onnx").read_bytes())
    before = sorted(p.name for p in (root / PAGE_WORKDIR).iterdir())
    proc = _run_cli(["--workdir", workdir, *argv], cwd=root)
    _assert_one_line_error(proc, code)
    fragment = next(v for k, v in EXPECTED.items() if k in argv)
    assert fragment in proc.stderr, proc.stderr
    assert sorted(p.name for p in (root / PAGE_WORKDIR).iterdir()) == before  # nothing half-written
    assert not (root / workdir).exists() or workdir == PAGE_WORKDIR


@pytest.mark.slow
def test_resnet50_weights_without_internet_is_one_line(tmp_path):
    # No cached checkpoint (empty TORCH_HOME) and no way out (a proxy nobody listens on): what an offline
    # reader sees after `export --model resnet50`.
    env = {"TORCH_HOME": str(tmp_path / "torch"), "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": ""}
    proc = _run_cli(["--workdir", "w", "export", "--model", "resnet50"], cwd=tmp_path, env=env)
    _assert_one_line_error(proc, 2)
    assert re.search(r"could not download torchvision's ResNet50 weights .*--weights random", proc.stderr)
    assert not (tmp_path / "w" / "fp32.onnx").exists()


def test_page_describes_the_committed_run_as_it_was_made():
    """Issue 16: the page said "the same commands with the defaults" while the committed bench added
    ``--models ... fp16``; and it showed ``--iterations 3`` speeds without saying that they are noise."""
    text = " ".join(_narrative().split())
    readme = (REPO / "demos" / "resnet50" / "results" / "README.md").read_text()
    script = (REPO / "tools" / "regenerate_results.sh").read_text()
    bench_models = "bench --models fp32 fp16 int8_max cpu_int8_trt_scales cpu_int8_best"
    assert "same commands with the defaults" not in text
    assert bench_models in text
    assert bench_models.replace("bench", "bench --backend ort") in readme
    assert bench_models.replace("bench", "bench --backend ort") in script
    for command in ("python -m demos.resnet50.qat --out", "--epochs 4 --lr 1e-5 --optimizer adam",
                    "python -m demos.resnet50.calib_study --onnx"):
        assert command in readme and command in script.replace('"$RESULTS/qat_study_efficientnet_lite0.json"', "") \
            .replace("$PY -m", "python -m"), command
    assert "``--iterations 3 --repeats 1``, as here, the speeds below are noise" in text


def test_regenerate_script_is_valid_shell():
    proc = subprocess.run(["bash", "-n", str(REPO / "tools" / "regenerate_results.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_qat_section_states_the_schedule_and_defaults_the_code_has():
    """Review item A5: the cosine ends at qat.FINAL_LR_FRACTION of the start (not zero), and the page names
    the qat stage's default optimizer and learning rate and the committed study's."""
    import argparse

    from demos.resnet50 import qat

    text = " ".join(line.lstrip("# ").strip() for line in PAGE.read_text(encoding="utf-8").splitlines())
    assert "annealed to zero" not in text
    assert f"cosine to {qat.FINAL_LR_FRACTION:.0%}".replace("%", " %") + " of its start" in text
    def lr(x):  # 1e-05 -> 1e-5, as people write it
        return f"{x:g}".replace("e-0", "e-")

    parser = argparse.ArgumentParser()
    qat.add_arguments(parser)
    stage = parser.parse_args([])
    assert f"{stage.optimizer.upper()} with momentum 0.9 and a learning rate of ``{lr(stage.lr)}``" in text
    study = json.loads((REPO / "demos/resnet50/results/qat_study_efficientnet_lite0.json").read_text())["finetune"]
    assert study["lr"] == stage.lr, "the page says 'the same' learning rate"
    assert f"trains with {dict(adam='Adam', sgd='SGD')[study['optimizer']]} at the same ``{lr(study['lr'])}``" in text
