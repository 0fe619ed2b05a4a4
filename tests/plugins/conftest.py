"""Shared fixtures: one exported plugin model and one TensorRT-RTX build per test session."""

from __future__ import annotations

import pytest

from demos.plugins.fields import IMAGENET
from demos.plugins.build import Profile

# Small enough to build fast, dynamic in every dimension the plugin allows.
SMALL_PROFILE = Profile(min=(1, 32, 32), opt=(2, 64, 64), max=(4, 128, 128))


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("plugins")


@pytest.fixture(scope="session")
def stem_onnx(workdir):
    """uint8 image -> Cast -> PreprocessNHWC (ImageNet mean/std, float32) -> ResNet stem, exported by PyTorch."""
    from demos.plugins import onnx_export

    model = onnx_export.WithPreprocess(onnx_export.resnet_stem(), IMAGENET)
    return onnx_export.export(model, workdir / "stem.onnx")


@pytest.fixture(scope="session")
def stem_build(workdir, stem_onnx):
    """The plan built from ``stem_onnx`` by TensorRT-RTX in a child process, and its report."""
    from demos.plugins.build import build_in_child

    plan = workdir / "stem.plan"
    return build_in_child(stem_onnx, profile=SMALL_PROFILE, plan_path=plan), plan
