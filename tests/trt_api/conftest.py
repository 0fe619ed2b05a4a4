"""Fixtures for the TensorRT API conformance tests.

The first use downloads the pinned binding wheels (about 1.2 MB each) with pip,
builds the stub libnvinfer with gcc and introspects each version in a subprocess;
later runs read the verified JSON surfaces from ``.cache/trt_api/``.
"""

from pathlib import Path

import pytest

from paddle_style_guide.trt_api import bindings

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(scope="session")
def surfaces():
    return bindings.load_surfaces()
