"""A reader's machine, as far as tests can make one: the project's wheel installed into a fresh virtual
environment, and commands run from an empty folder outside the checkout with no ``PYTHONPATH``.

A full install of the ``cpu`` extra would download PyTorch and friends again, so the fresh environment
sees the project's own ``.venv`` through a ``.pth`` file (``site.addsitedir``, so that its own ``.pth``
files count too); pip then installs the wheel with ``--no-index`` and finds every dependency already
there, or fails.  The wheel's packages come first on ``sys.path``, ahead of the editable install of
the checkout: tests check that ``demos`` is imported from the fresh environment.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TUTORIAL_BUILD_DIR", ROOT / "build")).resolve()
sys.path.insert(0, str(ROOT / "tools"))


@dataclass(frozen=True)
class ReaderEnv:
    venv: Path
    wheel: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def script(self, name: str) -> Path:
        return self.venv / "bin" / name

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a reader's shell: this venv active, nothing of the checkout on the path."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "TUTORIAL_GALLERY_ONLY")}
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["MPLBACKEND"] = "Agg"
        env.update(extra)
        return env

    def reader_data(self) -> dict[str, str]:
        """What a reader with the sample images and a warm cache sets: the checkout's sample folder
        and the site build's cache (keyed files: reused only when model, data and code match)."""
        from demos import data, locations

        env = {locations.CACHE_ENV: str(locations.cache_root())}
        if data.SAMPLES.is_dir():
            env[locations.SAMPLES_ENV] = str(data.SAMPLES)
        return env

    def run(self, argv: list[str], cwd: Path, timeout: float = 600, **extra: str):
        return subprocess.run([str(a) for a in argv], cwd=cwd, env=self.env(**extra), capture_output=True,
                              text=True, timeout=timeout)


def site_wheel() -> Path | None:
    """The wheel that the site build put into the HTML output (the one readers download)."""
    wheels = sorted((BUILD / "html" / "en" / "packages").glob("*.whl"))
    return wheels[-1] if wheels else None


@functools.cache
def reader_env(extras: str = "cpu") -> ReaderEnv:
    """A fresh venv with the project's wheel (with ``extras``) installed; built once per test session.

    The wheel is the site's when the site is built (what readers download), else one built here.
    """
    import build_site

    tmp = Path(tempfile.mkdtemp(prefix="reader-venv-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    wheel = site_wheel() or build_site.build_wheel(tmp / "dist")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    project_site = sysconfig.get_paths()["purelib"]
    (purelib / "zz_project_venv.pth").write_text(f"import site; site.addsitedir({project_site!r})\n")
    # Exactly the line the gallery pages show, typed in the folder the wheel was downloaded to.
    spec = f"{wheel.name}[{extras}]" if extras else wheel.name
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                           "--no-index", "--quiet", "--disable-pip-version-check", spec],
                          capture_output=True, text=True, cwd=wheel.parent)
    if proc.returncode != 0:
        raise RuntimeError(f"pip install {spec} into a fresh venv failed:\n{proc.stdout[-2000:]}\n"
                           f"{proc.stderr[-3000:]}")
    return ReaderEnv(venv, wheel)
