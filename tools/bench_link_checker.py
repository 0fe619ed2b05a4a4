#!/usr/bin/env python3
"""Benchmark the anchored link checker (``python -m paddle_style_guide check``).

Generates a corpus of Markdown pages in PaddlePaddle's documentation style
(raw HTML anchors, numbered headings, same-page and cross-page anchored links,
code blocks with link-like text that must be ignored) in a temporary
directory, plants a known number of broken links, runs the checker CLI on it
and prints files/s and links/s. With npm available it also times
markdown-link-check on (a subset of) the same corpus for comparison.

    .venv/bin/python tools/bench_link_checker.py [--pages 10000] [--mlc-pages 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES_PER_DIR = 100
LINKS_PER_PAGE = 10  # links outside code, per page (see page_text)

TITLES = ["准备数据", "运行校准", "检查结果", "Calibration data", "动态范围 (dynamic range)"]


def page_name(i: int) -> str:
    return f"part_{i // PAGES_PER_DIR:03d}/page_{i:05d}.md"


def page_text(i: int, n: int, rng: random.Random, broken: list) -> str:
    """One page with exactly LINKS_PER_PAGE links outside code."""
    nxt, prev, far = (i + 1) % n, (i - 1) % n, rng.randrange(n)
    rel = lambda j: os.path.relpath(page_name(j), os.path.dirname(page_name(i)))  # noqa: E731
    anchor_far = "2"
    if i % 97 == 0:  # planted: an anchor that the target page does not have
        anchor_far = "9"
        broken.append((page_name(i), "missing anchor", f"{rel(far)}#9"))
    next_link = rel(nxt)
    if i % 101 == 0:  # planted: a page that does not exist
        next_link = f"page_{i:05d}_old.md"
        broken.append((page_name(i), "missing page", f"{next_link}#3"))
    t1, t2, t3 = (TITLES[(i + k) % len(TITLES)] for k in range(3))
    return f"""# 第 {i} 页: INT8 量化 (quantization) notes

This page is part {i} of the generated corpus. It explains one step of
post-training quantization; read the [previous page]({rel(prev).replace('.md', '.html')}#1) first.

- [1. {t1}](#1)
- [2. {t2}](#2)
- [3. {t3}]({next_link}#3)

<a name="1"></a>
## 1. {t1}

Calibration runs the model on a few hundred images and records the largest
absolute value of each activation (`amax`). The scale is `amax / 127`, see the
[glossary entry][ref-{i}] and [the same step elsewhere]({rel(far)}#{anchor_far}).
A literal `[not a link](#nowhere)` in inline code is ignored.

```python
# code is not checked: [fake](#missing) <a name="ghost"></a>
scale = amax / 127.0
```

<a name="2"></a>
## 2. {t2}

![histogram of activations](../images/hist.png)

Values outside the dynamic range are clipped. Compare with the
<a href="./{os.path.basename(page_name(nxt)) if nxt // PAGES_PER_DIR == i // PAGES_PER_DIR else rel(nxt)}#2">next page</a>
and with [the vendor documentation](https://docs.nvidia.com/deeplearning/tensorrt/latest/index.html).

<a name="3"></a>
## 3. {t3}

Back to [the second section](#2-{t2.lower().replace(' ', '-').replace('(', '').replace(')', '')}).

[ref-{i}]: {rel(prev)}#3
"""


def make_corpus(root: str, n: int, seed: int) -> tuple[int, list]:
    rng = random.Random(seed)
    broken: list = []
    os.makedirs(os.path.join(root, "images"))
    with open(os.path.join(root, "images", "hist.png"), "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
    for i in range(n):
        path = os.path.join(root, page_name(i))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(page_text(i, n, rng, broken))
    return n * LINKS_PER_PAGE, broken


def run_checker(root: str, jobs: int | None) -> tuple[float, list, str]:
    cmd = [sys.executable, "-m", "paddle_style_guide", "check", root, "--format", "json"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        sys.exit(f"checker failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return elapsed, json.loads(proc.stdout), proc.stderr.strip()


def install_mlc(prefix: str) -> tuple[str | None, str]:
    """Install markdown-link-check from npm once; (executable or None, why)."""
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed"
    try:
        proc = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", prefix, "markdown-link-check"],
            capture_output=True, text=True, timeout=600,
        )
    except subprocess.TimeoutExpired:
        return None, "npm install timed out after 600 s"
    exe = os.path.join(prefix, "node_modules", ".bin", "markdown-link-check")
    if proc.returncode != 0 or not os.path.exists(exe):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"npm install failed: {tail[0]}"
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    return exe, f"markdown-link-check {version}"


def run_mlc(exe: str, root: str, dirs: list[str]) -> tuple[float, set]:
    """Time one markdown-link-check run over ``dirs`` (http links ignored:
    there is no network here). Returns (seconds, {(page, target) reported dead})."""
    config = os.path.join(root, "mlc-config.json")
    with open(config, "w") as fh:
        json.dump({"ignorePatterns": [{"pattern": "^https?://"}]}, fh)
    t0 = time.perf_counter()
    proc = subprocess.run([exe, "-q", "-c", config, *dirs], cwd=root, capture_output=True,
                          text=True, timeout=1800)
    elapsed = time.perf_counter() - t0
    # it prints the dead links on stdout and "N dead links found in FILE"
    # on stderr, both in file order: pair them up
    targets = re.findall(r"\[✖\] (\S+)", proc.stdout)
    dead, pos = set(), 0
    for count, page in re.findall(r"(\d+) dead links? found in (\S+) !", proc.stderr):
        dead.update((page, t) for t in targets[pos : pos + int(count)])
        pos += int(count)
    if pos != len(targets):
        sys.exit("could not read markdown-link-check's output")
    return elapsed, dead


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=0, help="checker worker processes (0: per CPU)")
    ap.add_argument("--repeat", type=int, default=3, help="checker runs; the median is shown")
    ap.add_argument("--mlc-pages", type=int, default=10_000,
                    help="pages given to markdown-link-check (whole folders of 100); 0 skips it")
    args = ap.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; load average "
          f"{os.getloadavg()[0]:.1f} (other work on the machine slows both tools)")
    with tempfile.TemporaryDirectory(prefix="linkbench-") as tmp:
        corpus = os.path.join(tmp, "corpus")
        t0 = time.perf_counter()
        links, broken = make_corpus(corpus, args.pages, args.seed)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(corpus) for f in fs)
        print(f"corpus: {args.pages} pages, {links} links outside code, {len(broken)} planted "
              f"broken links, {size / 2**20:.1f} MiB (generated in {time.perf_counter() - t0:.1f} s)")

        times = []
        for _ in range(max(1, args.repeat)):
            elapsed, problems, summary = run_checker(corpus, args.jobs)
            times.append(elapsed)
        elapsed = sorted(times)[len(times) // 2]
        print(f"paddle_style_guide: {summary}")
        print(f"paddle_style_guide: median of {len(times)} run(s): {elapsed:.2f} s wall "
              f"(runs: {', '.join(f'{t:.2f}' for t in times)}) -> "
              f"{args.pages / elapsed:,.0f} files/s, {links / elapsed:,.0f} links/s "
              "(whole CLI: interpreter start, walk, parse, resolve)")
        planted = {(page, target) for page, _, target in broken}
        ours = {(os.path.relpath(p["file"], corpus), p["target"]) for p in problems}
        ok = ours == planted
        print(f"paddle_style_guide: reported {len(ours)} broken link(s): {len(ours & planted)} of "
              f"{len(planted)} planted found, {len(ours - planted)} false alarm(s)")

        if args.mlc_pages <= 0:
            print("markdown-link-check: skipped (--mlc-pages 0)")
            return 0 if ok else 1
        exe, why = install_mlc(os.path.join(tmp, "npm"))
        if exe is None:
            print(f"markdown-link-check: skipped: {why}")
            return 0 if ok else 1
        n_dirs = max(1, min(args.mlc_pages, args.pages) // PAGES_PER_DIR)
        dirs = sorted({os.path.dirname(page_name(i)) for i in range(args.pages)})[:n_dirs]
        pages = n_dirs * PAGES_PER_DIR
        try:
            mlc_time, dead = run_mlc(exe, corpus, dirs)
        except subprocess.TimeoutExpired:
            print("markdown-link-check: gave up after 1800 s")
            return 0 if ok else 1
        subset = {(p, t) for p, t in planted if os.path.dirname(p) in dirs}
        scope = "all" if pages == args.pages else f"the first {pages} of the"
        print(f"{why}: {scope} pages in one run (http links ignored): {mlc_time:.1f} s -> "
              f"{pages / mlc_time:,.0f} files/s, {pages * LINKS_PER_PAGE / mlc_time:,.0f} links/s")
        print(f"{why}: reported {len(dead)} dead link(s): {len(dead & subset)} of {len(subset)} "
              f"planted found ({sum(1 for _, k, t in broken if k == 'missing anchor' and os.path.dirname(_) in dirs)}"
              f" missing anchors on other pages are not checked by it), {len(dead - subset)} false "
              "alarm(s) (Sphinx-style .html links)")
        print(f"speed ratio (files/s): paddle_style_guide / markdown-link-check = "
              f"{(args.pages / elapsed) / (pages / mlc_time):,.1f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
