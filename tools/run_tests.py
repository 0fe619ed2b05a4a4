"""``make test``: build the site and run every test, the tests that do not need the site during the build.

Usage (from the repository root, inside .venv)::

    python tools/run_tests.py [PYTEST_ARGS...]

The site build executes the gallery, which keeps one of two cores busy most of the time; the demo
pipelines of the tests keep the other busy.  So the work runs in two phases:

1. the site build (``tools/build_site.py all``, its output in ``build/logs/site-build.log``, printed
   when it ends) and, at the same time, every test not marked ``site``;
2. once the site is built, the tests marked ``site``: the built HTML, the code a reader takes from it,
   the browser tests (``tests/conftest.py`` marks every test under ``tests/sitebuild``).

Both phases always run, so one report shows every failure; the exit status is the first non-zero one.
A plain ``pytest`` (``make pytest``) still runs everything, against a site built earlier.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("TUTORIAL_BUILD_DIR", ROOT / "build")).resolve()
BUILD_LOG = BUILD / "logs" / "site-build.log"
NO_TESTS_COLLECTED = 5  # pytest's exit status when the arguments select no test


def say(message: str) -> None:
    print(f"[make test] {message}", flush=True)


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def pytest(marker: str, extra: list[str]) -> int:
    """Run the tests with ``marker``; 0 also when the extra arguments leave none of them (exit 5)."""
    code = subprocess.run([sys.executable, "-m", "pytest", "-m", marker, *extra], cwd=ROOT).returncode
    return 0 if code == NO_TESTS_COLLECTED else code


def main(argv: list[str] | None = None) -> int:
    extra = list(sys.argv[1:] if argv is None else argv)
    start = time.monotonic()
    BUILD_LOG.parent.mkdir(parents=True, exist_ok=True)
    say(f"building the site in the background (its log: {shown(BUILD_LOG)}); meanwhile, the tests "
        "that do not need it")
    with open(BUILD_LOG, "w", encoding="utf-8") as log:
        build = subprocess.Popen([sys.executable, str(ROOT / "tools" / "build_site.py"), "all"],
                                 cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            first = pytest("not site", extra)
        finally:
            if build.poll() is None:
                say("waiting for the site build")
            built = build.wait()
    sys.stdout.write(BUILD_LOG.read_text(encoding="utf-8", errors="replace"))
    if built != 0:
        say(f"the site build failed (exit {built}, its output is above); the site tests did not run")
        return built
    say(f"site built ({time.monotonic() - start:.0f} s since the start); now the tests of the built site")
    second = pytest("site", extra)
    say(f"done in {time.monotonic() - start:.0f} s")
    return first or second


if __name__ == "__main__":
    sys.exit(main())
