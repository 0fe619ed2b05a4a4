"""Run the demo's command line in this process, as a reader types it, for the walkthrough page.

The ResNet50 walkthrough (``gallery/resnet50/plot_resnet50_walkthrough.py``) shows each stage as a
command and runs exactly that command through :func:`demos.resnet50.__main__.main`.  What a reader would
not type lives here:

* the folder the commands run in: the root of the clone the code is imported from (so that
  ``--workdir build/walkthrough`` and the committed ``demos/resnet50/results/...`` files are where the
  page says), or, for a downloaded script run elsewhere, the current folder;
* a fresh start: the work folder is emptied first, so that no stage finds an earlier result;
* a lock (``build/walkthrough.lock`` beside the work folder), so that two site builds that run at the
  same time do not delete each other's files; it is held until the process ends;
* the time each stage took, for the page's last table.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import shutil
import time
from pathlib import Path

from demos import locations
from demos.resnet50.__main__ import main

PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # the folder that holds the demos package
from demos.resnet50 import RESULTS  # committed results, in a clone or installed
_LOCKS: dict[Path, object] = {}  # one open lock file per work folder and process


def home_relative(path: str | os.PathLike) -> str:
    """``~/...`` for a path in the home folder (what a reader sees for their own machine)."""
    p = Path(path).expanduser()
    try:
        return "~/" + p.relative_to(Path.home()).as_posix()
    except ValueError:
        return locations.shown(p)


class Session:
    """Commands of one page: ``cli("export", "--model", "x")`` runs and shows
    ``python -m demos.resnet50 --workdir WORKDIR export --model x``."""

    def __init__(self, workdir: str, base: str | os.PathLike | None = None):
        self.base = Path(base) if base else (locations.checkout_root() or Path.cwd())
        self.workdir = workdir
        self.seconds: dict[str, list[float]] = {}  # stage -> [wall seconds, CPU seconds of this process]
        self._lock(self.path)
        shutil.rmtree(self.path, ignore_errors=True)  # a fresh run: no stage finds an earlier result

    @property
    def path(self) -> Path:
        """The work folder of the commands, as an absolute path."""
        return self.base / self.workdir

    def rel(self, path: str | os.PathLike) -> str:
        """``path`` as the commands are typed: relative to the folder they run in, when inside it."""
        p = Path(path).resolve()
        try:
            return p.relative_to(self.base.resolve()).as_posix()
        except ValueError:
            return str(p)

    def cli(self, *argv: str, workdir: str | None = None, expect: int = 0) -> None:
        """Run ``python -m demos.resnet50 --workdir WORKDIR ARGV...`` here and show what it prints.

        Progress bars and library warnings (stderr) are left out; an ``error:`` line is shown. Raises
        if the exit status is not ``expect``.
        """
        workdir = workdir or self.workdir
        print("$ python -m demos.resnet50 --workdir " + " ".join([workdir, *argv]))
        out, err = io.StringIO(), io.StringIO()
        t0, c0 = time.perf_counter(), time.process_time()
        with (contextlib.chdir(self.base), contextlib.redirect_stdout(out),
              contextlib.redirect_stderr(err)):
            code = main(["--workdir", workdir, *argv])
        spent = self.seconds.setdefault(argv[0], [0.0, 0.0])
        spent[0] += time.perf_counter() - t0
        spent[1] += time.process_time() - c0
        errors = [line for line in err.getvalue().splitlines() if line.startswith("error:")]
        print("\n".join([out.getvalue().rstrip(), *errors]).strip())
        print(f"[exit status {code}]")
        if code != expect:
            raise RuntimeError(f"`{' '.join(argv)}` exited with {code}, expected {expect}:\n"
                               f"{err.getvalue()[-2000:]}")

    @staticmethod
    def _lock(path: Path) -> None:
        key = path.resolve()
        if key in _LOCKS:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.parent / f"{path.name}.lock", "w")  # closed (and unlocked) at process exit
        fcntl.flock(handle, fcntl.LOCK_EX)
        _LOCKS[key] = handle
