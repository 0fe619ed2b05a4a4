"""Every untagged ```python block of docs/ and paddle_style_guide/ runs, in a fresh namespace
with a temporary working directory; ```bash/```console blocks tagged ``# test: run`` run too.

Tags are described in paddle_style_guide/guide/code-blocks.md; tagged Python blocks are
not executed here but their TensorRT names are checked by test_repository.py.
"""

import os
import subprocess
import sys

import pytest

from paddle_style_guide.trt_api import blocks, check
from paddle_style_guide.trt_api.bindings import REPO_ROOT


def _collect():
    python, shell = [], []
    for path in check.discover():
        if path.suffix != ".md":
            continue
        found, _ = blocks.extract(path)  # tag errors fail test_repository.py
        for block in found:
            if not block.runnable:
                continue
            rel = path.relative_to(REPO_ROOT).as_posix()
            param = pytest.param(block, id=f"{rel}:{block.line}")
            (python if block.lang == "python" else shell).append(param)
    return python, shell


PYTHON_BLOCKS, SHELL_BLOCKS = _collect()


@pytest.mark.parametrize("block", PYTHON_BLOCKS)
def test_python_block_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # Pad with blank lines so tracebacks point at the Markdown line.
    code = compile("\n" * (block.line - 1) + block.code, str(block.path), "exec")
    try:
        exec(code, {"__name__": "__main__"})
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


@pytest.mark.parametrize("block", SHELL_BLOCKS)
def test_shell_block_runs(block, tmp_path):
    commands = blocks.shell_commands(block)
    assert commands, f"{block.where()}: `# test: run` block without commands"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    for command in commands:
        argv = blocks.python_argv(command, sys.executable)
        proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        tail = (proc.stdout + proc.stderr)[-2000:]
        assert proc.returncode == 0, f"{block.where()}: `{command}` exited {proc.returncode}:\n{tail}"


def test_runner_finds_the_convention_examples():
    # The convention page itself has runnable blocks of both kinds; if this fails the
    # collector is broken, not the docs.
    ids = [p.id for p in PYTHON_BLOCKS + SHELL_BLOCKS]
    assert any(i.startswith("paddle_style_guide/guide/code-blocks.md:") for i in ids)
    assert any(p.id.startswith("paddle_style_guide/guide/code-blocks.md:") for p in SHELL_BLOCKS)
