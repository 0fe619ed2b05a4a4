"""Shared pytest configuration: the repository root is importable (demos, paddle_style_guide), and
every test of the built site is marked ``site`` (``tools/run_tests.py`` runs them after the build)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SITE_TESTS = ROOT / "tests" / "sitebuild"


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.is_relative_to(SITE_TESTS):
            item.add_marker(pytest.mark.site)
