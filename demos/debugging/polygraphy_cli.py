"""Run the ``polygraphy`` command line tool exactly as a reader types it, and use its own argument parser.

The gallery page runs ``polygraphy run ...`` in a child process (``python -c`` with Polygraphy's entry point,
the code behind the ``polygraphy`` console script), in the folder that holds the models, so the command it
shows is the command that ran. Polygraphy prints a lot; :func:`summary` keeps the lines that carry a
verdict. :func:`parser` builds the same ``argparse`` parser as ``polygraphy`` itself (``-h`` works without
TensorRT), which :mod:`demos.debugging.cli_flags` uses to check the commands written on the site.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# What the ``polygraphy`` console script runs; works in any environment where ``import polygraphy`` works.
ENTRY = "import sys; from polygraphy.tools import main; sys.exit(main())"


@dataclass
class Result:
    argv: list[str]  # the arguments after ``polygraphy``
    code: int
    output: str  # stdout and stderr, in order

    @property
    def command(self) -> str:
        return "polygraphy " + " ".join(self.argv)


def run(argv: list[str], cwd: str | Path, timeout: float = 600) -> Result:
    """``polygraphy ARGV...`` in ``cwd``; the exit code is returned, not raised (a failed comparison is 1)."""
    proc = subprocess.run([sys.executable, "-c", ENTRY, *argv], cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return Result(list(argv), proc.returncode, proc.stdout)


# Lines with a verdict or a summary; the per-tensor statistics and histograms in between are left out.
_KEEP = re.compile(r"(PASSED|FAILED) \||Accuracy Summary|Error Metrics:|Saving |Loading inference results")
_RUN_TAIL = re.compile(r" \| Runtime: [0-9.]+s \| Command: .*$")  # timing and the child's argv: noise here
_RUNNER = re.compile(r"onnxrt-runner-N\d+-[0-9/]+-[0-9:]+")  # runner names carry the time of the run
_LIST = re.compile(r"\[('[^']*'(?:, '[^']*')*)\]")


def summary(output: str, max_names: int = 4) -> str:
    """The verdict lines of Polygraphy's output, with run times removed and long tensor lists shortened."""
    lines = []
    for line in output.splitlines():
        if not _KEEP.search(line) or "Error Metrics:" in line:
            continue
        line = _RUN_TAIL.sub("", line)
        line = _RUNNER.sub("onnxrt-runner", line)

        def shorten(m: re.Match) -> str:
            names = m.group(1).split(", ")
            if len(names) <= max_names:
                return m.group(0)
            return "[" + ", ".join(names[:max_names]) + f", ... {len(names)} in all]"

        lines.append(_LIST.sub(shorten, line.rstrip()))
    return "\n".join(lines)


def parser():
    """Polygraphy's own top-level parser with every tool registered (``run``, ``convert``, ``debug``, ...)."""
    import argparse

    from polygraphy.tools.registry import TOOL_REGISTRY

    top = argparse.ArgumentParser(prog="polygraphy", exit_on_error=False)
    subparsers = top.add_subparsers(title="Tools", dest="tools")
    subparsers.required = True
    for tool in TOOL_REGISTRY:
        tool.setup_parser(subparsers)
    return top


def version() -> str:
    import polygraphy

    return polygraphy.__version__
