"""Record every gallery script execution, so tests can prove each runs once per build.

sphinx-gallery calls ``record_execution`` (listed in ``reset_modules``) before each
script it executes; scripts it skips because their checksum is unchanged are not recorded.
``tools/build_site.py`` names the current build step in ``TUTORIAL_BUILD_STEP`` and
empties the log at the start of a full build.
"""

from __future__ import annotations

import os
from pathlib import Path

LOG = Path(os.environ.get("TUTORIAL_BUILD_DIR", Path(__file__).resolve().parents[2] / "build")) / "logs" / "gallery-executions.log"


def record_execution(gallery_conf: dict, fname) -> None:
    if fname is None:  # entering a gallery folder, not running a script
        return
    LOG.parent.mkdir(parents=True, exist_ok=True)
    step = os.environ.get("TUTORIAL_BUILD_STEP", "manual")
    with LOG.open("a", encoding="utf-8") as log:
        log.write(f"{step}\t{Path(fname).as_posix()}\n")
