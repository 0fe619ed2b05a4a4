"""Print the cold full-build time and the time of a rebuild after one page edit.

Cold: no build output and no executed gallery (both removed first), then the whole
``tools/build_site.py all`` (catalog check + English + Chinese).  Warm: one English page
gets a trailing blank line (content unchanged, so its translation stays valid), then the
same command again.  The page is restored afterwards.  Figures are printed, not asserted.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITED_PAGE = ROOT / "docs" / "glossary.md"


def timed_build() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_site.py"), "all"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    for path in (ROOT / "build", ROOT / "docs" / "auto_gallery"):
        shutil.rmtree(path, ignore_errors=True)
    cold = timed_build()

    original = EDITED_PAGE.read_text(encoding="utf-8")
    try:
        EDITED_PAGE.write_text(original + "\n", encoding="utf-8")
        warm = timed_build()
    finally:
        EDITED_PAGE.write_text(original, encoding="utf-8")
    timed_build()  # leave a build of the sources as they are (the tests compare its page copies with them)

    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    print(f"cold full build (gettext check + en + zh_CN, gallery executed): {cold:6.1f} s")
    print(f"rebuild after editing {EDITED_PAGE.relative_to(ROOT)}:            {warm:6.1f} s")


if __name__ == "__main__":
    main()
