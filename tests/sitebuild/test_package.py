"""The project as a distribution: the wheel installs into a fresh venv and its tools work from any folder.

What README.md's "Install the code" and "Use the link checker in your project" promise: the console
script with ``--version``, ``python -m`` still working, the data files inside the wheel, the Sphinx
extension, and the pre-commit hook of ``.pre-commit-hooks.yaml``.
"""

from __future__ import annotations

import shlex
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from .reader import ROOT, reader_env

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reader():
    return reader_env("")  # the base install: what a documentation project that wants the checker gets


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """An empty folder that is not inside the checkout."""
    assert ROOT not in tmp_path.parents
    return tmp_path


def _docs(folder: Path) -> Path:
    """A tiny documentation project: one good anchored link, one broken one."""
    docs = folder / "docs"
    docs.mkdir()
    (docs / "a.md").write_text('# A\n\n<a name="2"></a>\n\n## 2. Two\n\nText.\n', encoding="utf-8")
    (docs / "b.md").write_text("# B\n\n[good](./a.md#2) and [broken](./a.md#9)\n", encoding="utf-8")
    return docs


def test_wheel_holds_the_packages_and_their_data(reader):
    names = set(zipfile.ZipFile(reader.wheel).namelist())
    for required in ("demos/__init__.py", "demos/resnet50/__main__.py", "demos/locations.py",
                     "demos/resnet50/results/bench_gpu_h200.json",
                     "demos/resnet50/results/cpu_efficientnet_lite0/report.json",
                     "demos/gpu_speed/results/gpu_speed_h200.json",
                     "paddle_style_guide/cli.py", "paddle_style_guide/sphinx_ext.py",
                     "paddle_style_guide/trt_api/migration.toml", "paddle_style_guide/guide/checker.md"):
        assert required in names, f"{required} is not in {reader.wheel.name}"
    assert not any(n.startswith(("tests/", "gallery/", "docs/", "tools/")) for n in names)
    assert not any("__pycache__" in n for n in names)


def test_console_script_version_from_outside_the_checkout(reader, outside):
    proc = reader.run([reader.script("paddle-style-guide"), "--version"], cwd=outside)
    assert proc.returncode == 0, proc.stderr
    version = PYPROJECT["project"].get("version") or reader.wheel.name.split("-")[1]
    assert proc.stdout.strip() == f"paddle_style_guide {version}"
    # The same package answers `python -m`, and it is the wheel's copy, not the checkout's.
    proc = reader.run([reader.python, "-c", "import demos, paddle_style_guide as p; "
                       "print(p.__file__); print(demos.__file__)"], cwd=outside)
    assert proc.returncode == 0, proc.stderr
    for line in proc.stdout.split():
        assert Path(line).is_relative_to(reader.venv), f"imported from {line}, not from the installed wheel"
    proc = reader.run([reader.python, "-m", "paddle_style_guide", "--version"], cwd=outside)
    assert proc.returncode == 0 and proc.stdout.strip().endswith(version)


def test_console_script_checks_links(reader, outside):
    docs = _docs(outside)
    proc = reader.run([reader.script("paddle-style-guide"), "check", "docs"], cwd=outside)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == ['docs/b.md:3:31: error: ./a.md#9: no anchor "9" in docs/a.md',
                                        "checked 2 file(s), 2 link(s): 1 error(s), 0 warning(s)"], proc.stdout
    (docs / "b.md").write_text("# B\n\n[good](./a.md#2)\n", encoding="utf-8")
    proc = reader.run([reader.script("paddle-style-guide"), "check", "docs", "--format", "json"], cwd=outside)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", (proc.stdout, proc.stderr)


def test_installed_data_files_are_read(reader, outside):
    code = textwrap.dedent("""
        from paddle_style_guide.trt_api import migration
        from demos.resnet50 import fp16
        from demos import files
        table = migration.load()
        bench = files.read_json(fp16.RESULTS / "bench_gpu_h200.json", "recorded GPU benchmark")
        print(len(table) > 0, bench["provenance"]["gpu"]["name"])
    """)
    proc = reader.run([reader.python, "-c", code], cwd=outside)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("True ") and "H200" in proc.stdout


def test_pre_commit_hook_runs_the_console_script(reader, outside):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["language"] == "python" and hook["types"] == ["markdown"]
    entry = shlex.split(hook["entry"])
    assert entry[0] in PYPROJECT["project"]["scripts"], "the hook's entry must be a console script"
    # pre-commit runs `entry [args] FILES...` from the repository root with the changed files.
    docs = _docs(outside)
    argv = [reader.script(entry[0]), *entry[1:], *hook.get("args", []), "docs/b.md"]
    proc = reader.run(argv, cwd=outside)
    assert proc.returncode == 1 and "./a.md#9" in proc.stdout, (proc.stdout, proc.stderr)
    (docs / "b.md").write_text("# B\n\n[good](./a.md#2)\n", encoding="utf-8")
    assert reader.run(argv, cwd=outside).returncode == 0


@pytest.mark.slow
def test_sphinx_extension_from_the_wheel(reader, outside):
    """README's Sphinx snippet: a raw HTML anchor resolves, a broken one fails a -W build."""
    src = outside / "site"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser", "paddle_style_guide.sphinx_ext"]\n')
    (src / "index.md").write_text('# Home\n\n<a name="2"></a>\n\n## 2. Two\n\n[two](#2)\n', encoding="utf-8")
    build = [reader.python, "-m", "sphinx", "-b", "html", "-q", "-W", "-n", src]
    proc = reader.run([*build, outside / "out"], cwd=outside)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'href="#2"' in (outside / "out" / "index.html").read_text(encoding="utf-8")
    (src / "index.md").write_text('# Home\n\n[nine](#9)\n', encoding="utf-8")
    proc = reader.run([*build, outside / "out2"], cwd=outside)
    assert proc.returncode != 0 and "target not found: '9'" in proc.stderr, proc.stderr[-2000:]


def test_extras_are_named_after_what_readers_have():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"cpu", "gpu", "trt10", "trt11", "rtx", "site"} <= set(extras)
    assert any(d.startswith("tensorrt") and "<11" in d for d in extras["trt10"])
    assert any(d.startswith("tensorrt") and ">=11" in d for d in extras["trt11"])
    for name in ("onnxruntime", "nvidia-modelopt", "timm", "torch"):
        assert any(d.split(">")[0].split("=")[0].split("<")[0] == name for d in extras["cpu"]), name
