"""Shared pytest configuration: the repository root is importable (demos, paddle_style_guide)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
