"""The real command line: help, and one stage as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cli(*argv):
    return subprocess.run([sys.executable, "-m", "demos.resnet50", *argv], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_help_lists_every_stage():
    out = cli("--help")
    assert out.returncode == 0
    for stage in ("export", "fp16", "ptq", "qat", "build", "eval", "bench", "report"):
        assert stage in out.stdout


def test_report_stage_as_subprocess(r50, tmp_path):
    out = cli("--workdir", str(r50.root), "report", "--out", str(tmp_path / "rep"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "rep.md").read_text().startswith("# resnet50")
    assert (tmp_path / "rep.png").stat().st_size > 10_000
