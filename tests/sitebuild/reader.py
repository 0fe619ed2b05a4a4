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
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import block_tags  # noqa: E402  (docs/_ext, put on the path above)


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


# -- What a reader takes from the rendered English site --------------------------------------------------

GALLERY = ROOT / "gallery"
SCRIPTS = sorted(p for p in GALLERY.rglob("plot_*.py") if (p.parent / "GALLERY_HEADER.rst").exists())
# The notebook that proves the .ipynb path: a short page (the scripts cover every page's code).
NOTEBOOK = "concepts/plot_fake_quant_ste"
NOTEBOOK_RUNNER = (
    "import nbclient, nbformat, sys; nb = nbformat.read(sys.argv[1], as_version=4); "
    "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3', "
    "resources={'metadata': {'path': '.'}}).execute(); nbformat.write(nb, sys.argv[1]); "
    "import demos; print(demos.__file__)")


def gallery_page(html_root: Path, language: str, script: Path) -> Path:
    return html_root / language / "docs/auto_gallery" / script.relative_to(GALLERY).with_suffix(".html")


def soup(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def download(html_root: Path, script: Path, suffix: str) -> Path:
    """The file that the English page's download link of type ``suffix`` points to."""
    page = gallery_page(html_root, "en", script)
    hrefs = [a["href"] for a in soup(page).select("a.download") if a["href"].endswith(suffix)]
    assert len(hrefs) == 1, f"{page.name}: expected one {suffix} download, found {hrefs}"
    target = (page.parent / hrefs[0]).resolve()
    assert target.is_file(), f"{page.name}: broken download {hrefs[0]}"
    return target


def copy_this_blocks(section) -> tuple[list[str], list[list[str]]]:
    """(Python code blocks, runnable console blocks as command lists) of a rendered section, no outputs.

    A console block runs only when its source starts with ``# test: run`` (the style guide's convention);
    the rendered page leaves the tag out and marks the block with a class (docs/_ext/block_tags.py).
    """
    python, console = [], []
    for div in section.find_all("div", class_="highlight"):
        classes = " ".join(div.parent.get("class", []))
        if "sphx-glr-script-out" in classes:
            continue  # what the code printed when the page was built
        text = div.get_text()
        if "highlight-python" in classes.lower():
            python.append(text)
        elif "highlight-console" in classes and block_tags.TESTED_CLASS in classes.split():
            console.append([ln[2:] for ln in text.splitlines() if ln.startswith("$ ")])
    return python, console


def copy_this_sections(html_root: Path) -> dict[str, object]:
    """Script stem -> the ``<section id="copy-this">`` of every English gallery page that has one."""
    out = {}
    for script in SCRIPTS:
        section = soup(gallery_page(html_root, "en", script)).find("section", id="copy-this")
        if section is not None:
            out[script.stem] = section
    return out


@dataclass
class Job:
    """Commands a reader runs one after the other in one empty folder, with files put there first."""

    key: str
    commands: list[list[str]]
    files: dict[str, str | Path]  # name -> text, or a file to copy
    weight: float = 1.0  # longer jobs start first
    folder: Path | None = None
    results: list[subprocess.CompletedProcess] | None = None


def _run_job(env: ReaderEnv, job: Job) -> Job:
    job.folder = Path(tempfile.mkdtemp(prefix=f"reader-{job.key}-"))
    atexit.register(shutil.rmtree, job.folder, ignore_errors=True)
    for name, content in job.files.items():
        if isinstance(content, Path):
            shutil.copy(content, job.folder / name)
        else:
            (job.folder / name).write_text(content, encoding="utf-8")
    job.results = []
    for argv in job.commands:
        # Two jobs share the two cores: one thread each, so they do not slow each other down.
        proc = env.run([env.python if a == "python" else a for a in argv], cwd=job.folder, timeout=900,
                       OMP_NUM_THREADS="1", **env.reader_data())
        job.results.append(proc)
        if proc.returncode != 0:
            break
    return job


class _ReaderRuns:
    """Everything the tests take from the rendered site, run once per session from a queue: one runner
    may start early, in the background (``start_early``: the other tests leave a core idle most of the
    time), and a second joins when a test needs the results, so that two run at a time to the end."""

    def __init__(self, html_root: Path):
        import queue
        import shlex
        import threading

        self.env = reader_env("cpu")
        jobs = []
        for stem, section in copy_this_sections(html_root).items():
            python, console = copy_this_blocks(section)
            commands = [["python", "copy_this.py"]] if python else []
            commands += [shlex.split(c) for block in console for c in block]
            files = {"copy_this.py": "\n\n".join(python)} if python else {}
            jobs.append(Job(f"copy-this:{stem}", commands, files, weight=len(commands)))
        for script in SCRIPTS:
            jobs.append(Job(f"py:{script.stem}", [["python", script.name]],
                            {script.name: download(html_root, script, ".py")},
                            weight=4 if "walkthrough" in script.stem else 1))
        nb = download(html_root, GALLERY / f"{NOTEBOOK}.py", ".ipynb")
        jobs.append(Job("ipynb", [["python", "-c", NOTEBOOK_RUNNER, nb.name]], {nb.name: nb}))
        jobs.sort(key=lambda j: -j.weight)
        self.jobs = jobs
        self.todo: queue.SimpleQueue[Job] = queue.SimpleQueue()
        for job in jobs:
            self.todo.put(job)
        self.runners: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.errors: list[Exception] = []

    def add_runner(self) -> None:
        import queue
        import threading

        def work():
            while True:
                try:
                    job = self.todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    _run_job(self.env, job)
                except Exception as exc:  # re-raised in results(), in the test that asks
                    self.errors.append(exc)

        with self.lock:
            if len(self.runners) < 2:  # one thread each: two runners fill the two cores
                self.runners.append(threading.Thread(target=work, daemon=True, name="reader-runs"))
                self.runners[-1].start()

    def results(self) -> dict[str, Job]:
        self.add_runner()
        self.add_runner()
        for runner in self.runners:
            runner.join()
        if self.errors:
            raise self.errors[0]
        return {job.key: job for job in self.jobs}


@functools.cache
def _reader_runs(html_root: Path) -> _ReaderRuns:
    return _ReaderRuns(html_root)


def start_early(html_root: Path) -> None:
    """Start the reader runs in the background with one runner (see _ReaderRuns)."""
    _reader_runs(html_root).add_runner()


def reader_jobs(html_root: Path) -> dict[str, Job]:
    """Run, once per session and two at a time, everything the tests take from the rendered site:
    each "Copy this" section (``copy-this:<stem>``), each downloaded script (``py:<stem>``) and the
    notebook (``ipynb``)."""
    return _reader_runs(html_root).results()
