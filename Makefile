# Two commands set everything up on a fresh clone (see README.md):
#   make site   install .venv and build the site in both languages
#   make test   install .venv, build the site and run every test (tools/run_tests.py: the tests
#               that do not need the site run while it builds)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: site test po check-po html-en html-zh style pytest browser fonts bench-build clean

# requirements.txt is `pip install -e .[cpu,rtx,site,test]` (see pyproject.toml) with the pins of the lock;
# the build backend comes first so that the editable install needs no isolated build environment.
# Bytecode: pip compiles it one file at a time; compileall (next to pip below) uses every core (the whole
# install: 102 -> 83 s on 2 cores).  Skipping it would cost more: where PYTHONDONTWRITEBYTECODE is set,
# every process would compile PyTorch again (make test took 4 minutes longer).
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

# PyTorch on the CPU allocates and frees activations of tens of MB per layer.  With glibc's defaults each
# such block is a fresh mmap that the kernel zeroes page by page: training on the QAT page spent 47 s of
# 118 s in the kernel.  Keeping freed memory in the process (no mmap, no trim) cut it to 6 s of system time
# (99 s in all).  Only for what make runs: the gallery, the demos under test, and the readers' runs.
export MALLOC_MMAP_THRESHOLD_ ?= 4294967296
export MALLOC_TRIM_THRESHOLD_ ?= 4294967296

$(STAMP): requirements.txt requirements-lock.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) setuptools -c requirements-lock.txt
	$(PIP) --no-build-isolation --no-compile -r requirements.txt -c requirements-lock.txt
	@# one file, torch/testing/_internal/py312_intrinsics.py, is Python 3.12 only: pip skips it too
	$(PY) -m compileall -q -j 0 "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null || true
	touch $@

site: $(STAMP) fonts
	$(PY) tools/build_site.py all

po: $(STAMP) fonts
	$(PY) tools/build_site.py update-po

check-po: $(STAMP) fonts
	$(PY) tools/build_site.py check-po

html-en: $(STAMP) fonts
	$(PY) tools/build_site.py html en

html-zh: $(STAMP) fonts
	$(PY) tools/build_site.py html zh_CN

# Broken links and anchors in the Markdown sources (pytest runs the same check:
# tests/style_guide/test_checker.py::test_the_site_passes_the_checker).
style: $(STAMP)
	$(PY) -m paddle_style_guide check docs paddle_style_guide README.md

# Headless Chromium for the browser test (Debian packages; the test skips nothing if present).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null)

# The Chinese gallery figures are drawn with Noto Sans CJK SC (Debian fonts-noto-cjk).
fonts:
	@fc-list 2>/dev/null | grep -q NotoSansCJK || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null)

pytest: $(STAMP)
	$(PY) -m pytest

test: $(STAMP) browser fonts
	$(PY) tools/run_tests.py

bench-build: $(STAMP)
	$(PY) tools/bench_build.py

clean:
	rm -rf build docs/auto_gallery
