#!/usr/bin/env python3
"""Benchmark the anchored link checker (``python -m paddle_style_guide check``)
against its two speed targets, in one run:

1. the synthetic bench: a generated corpus of Markdown pages in PaddlePaddle's
   documentation style (raw HTML anchors, numbered headings, same-page and
   cross-page anchored links, code blocks with link-like text that must be
   ignored) with a known number of planted broken links; target: at least
   5,000 files/s on 2 cores (the whole command: interpreter start, walk,
   parse, resolve);
2. a real corpus, the Markdown pages of PaddlePaddle/docs, checked by this
   checker and by markdown-link-check (from npm, http(s) and mailto links
   ignored so that it never touches the network); target: at least 5x
   faster.

Timings on a busy machine are noise: run it on a quiet one (the first line
prints the load average). Nothing is written outside a temporary folder,
except markdown-link-check's npm install in --npm-prefix (reused).

    .venv/bin/python tools/bench_link_checker.py \
        [--paddle-docs /work/.mirror/PaddlePaddle+docs/repo] [--pages 10000]

--paddle-docs takes a checkout or a bare git repository (its HEAD is
exported); without one, part 2 is skipped and says how to get it.
"""

from __future__ import annotations

import argparse
import compileall
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


def run_checker(paths: list[str], jobs: int | None, cwd: str, *extra: str) -> tuple[float, list, str]:
    """One run of the checker's command line; (seconds, problems, summary)."""
    cmd = [sys.executable, "-m", "paddle_style_guide", "check", *paths, "--format", "json",
           "--no-config", *extra]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        sys.exit(f"checker failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return elapsed, json.loads(proc.stdout), proc.stderr.strip()


def median_run(repeat: int, *args) -> tuple[float, list[float], list]:
    times, problems = [], []
    for _ in range(max(1, repeat)):
        elapsed, problems, _ = run_checker(*args)
        times.append(elapsed)
    return sorted(times)[len(times) // 2], times, problems


def install_mlc(prefix: str) -> tuple[str | None, str]:
    """markdown-link-check from npm, installed once into ``prefix``;
    (executable or None, its version or why not)."""
    exe = os.path.join(prefix, "node_modules", ".bin", "markdown-link-check")
    if not os.path.exists(exe):
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
        if proc.returncode != 0 or not os.path.exists(exe):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return None, f"npm install failed: {tail[0]}"
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    return exe, f"markdown-link-check {version}"


def run_mlc(exe: str, root: str, paths: list[str]) -> tuple[float, set]:
    """Time one markdown-link-check run over ``paths`` (relative to ``root``),
    offline: http(s) and mailto links are ignored. Returns (seconds,
    {(page, target) reported dead})."""
    config = os.path.join(root, ".mlc-config.json")
    with open(config, "w") as fh:
        json.dump({"ignorePatterns": [{"pattern": "^https?://"}, {"pattern": "^mailto:"}],
                   "timeout": "1s", "retryOn429": False}, fh)
    t0 = time.perf_counter()
    proc = subprocess.run([exe, "-q", "-c", config, *paths], cwd=root, capture_output=True,
                          text=True, timeout=3600)
    elapsed = time.perf_counter() - t0
    # with -q it prints the dead links ("[✖] target") on stdout and "N dead links
    # found in FILE" on stderr, both in file order: pair them up
    targets = [t.strip() for t in re.findall(r"\[✖\] (.*?) → Status", proc.stdout, re.S)]
    dead, pos = set(), 0
    for count, page in re.findall(r"(\d+) dead links? found in (.+) !$", proc.stderr, re.M):
        dead.update((os.path.normpath(page), t) for t in targets[pos : pos + int(count)])
        pos += int(count)
    if pos != len(targets):
        print(f"note: markdown-link-check printed {len(targets)} dead link(s) but counted {pos}; "
              "its list of dead links is approximate (the timing is not affected)")
    return elapsed, dead


def export_paddle_docs(source: str, into: str) -> str:
    """The docs/ folder of a PaddlePaddle/docs checkout or git repository,
    copied (exported from HEAD for a git directory) below ``into``. A blob
    that a partial mirror lacks (large images) is written empty: links only
    need the file to exist."""
    if os.path.isdir(os.path.join(source, "docs")):
        return os.path.join(source, "docs")
    git = ["git", "--git-dir", source]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", "HEAD", "docs"], capture_output=True,
                             check=True).stdout.split(b"\0")
    entries = []
    for item in filter(None, listing):
        meta, path = item.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000":
            entries.append((sha.decode(), os.fsdecode(path)))
    batch = subprocess.Popen([*git, "cat-file", "--batch"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
    missing = 0
    for sha, path in entries:
        batch.stdin.write(sha.encode() + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        data = b""
        if len(header) == 3:
            data = batch.stdout.read(int(header[2]))
            batch.stdout.read(1)  # the newline after the content
        else:
            missing += 1
        full = os.path.join(into, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(data)
    batch.stdin.close()
    batch.wait()
    if missing:
        print(f"PaddlePaddle/docs: {missing} file(s) absent from the repository copy (large "
              "binaries) written empty")
    return os.path.join(into, "docs")


def markdown_files(top: str, limit: int) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.relpath(os.path.join(folder, f), top) for f in sorted(files) if f.endswith(".md")]
    return found[:limit] if limit else found


def bench_synthetic(args, tmp: str) -> bool:
    corpus = os.path.join(tmp, "corpus")
    t0 = time.perf_counter()
    links, broken = make_corpus(corpus, args.pages, args.seed)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(corpus) for f in fs)
    print(f"synthetic: {args.pages} pages, {links} links outside code, {len(broken)} planted "
          f"broken links, {size / 2**20:.1f} MiB (generated in {time.perf_counter() - t0:.1f} s)")
    elapsed, times, problems = median_run(args.repeat, ["."], args.jobs, corpus)
    rate = args.pages / elapsed
    print(f"synthetic: paddle_style_guide (github rules): median of {len(times)} run(s) "
          f"{elapsed:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}) -> {rate:,.0f} files/s, "
          f"{links / elapsed:,.0f} links/s; target >= 5,000 files/s: "
          f"{'met' if rate >= 5000 else 'NOT met'}")
    planted = {(page, target) for page, _, target in broken}
    ours = {(p["file"], p["target"]) for p in problems}
    print(f"synthetic: reported {len(ours)} broken link(s): {len(ours & planted)} of "
          f"{len(planted)} planted found, {len(ours - planted)} false alarm(s)")
    with open(os.path.join(corpus, "conf.py"), "w") as fh:
        fh.write('extensions = ["paddle_style_guide.sphinx_ext"]\nmyst_heading_anchors = 3\n')
    s_elapsed, s_times, _ = median_run(args.repeat, ["."], args.jobs, corpus, "--rules", "sphinx")
    print(f"synthetic: paddle_style_guide --rules sphinx: median {s_elapsed:.2f} s -> "
          f"{args.pages / s_elapsed:,.0f} files/s (for information; its .html links are dead "
          "there, so it reports more)")
    return ours == planted


def bench_paddle_docs(args, tmp: str) -> None:
    source = args.paddle_docs
    if not source or not os.path.exists(source):
        print("PaddlePaddle/docs: skipped: pass --paddle-docs with a checkout (git clone "
              "https://github.com/PaddlePaddle/docs) or a bare repository")
        return
    docs = export_paddle_docs(os.path.abspath(source), tmp)
    files = markdown_files(docs, args.paddle_limit)
    head = subprocess.run(["git", "--git-dir", source, "log", "-1", "--format=%h %cs"],
                          capture_output=True, text=True).stdout.strip() if not os.path.isdir(
                              os.path.join(source, "docs")) else "checkout"
    print(f"PaddlePaddle/docs ({head}): {len(files)} Markdown files")
    elapsed, times, problems = median_run(args.repeat, files, args.jobs, docs)
    print(f"PaddlePaddle/docs: paddle_style_guide: median of {len(times)} run(s) {elapsed:.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)}) -> {len(files) / elapsed:,.0f} files/s; "
          f"{len(problems)} problem(s)")
    if args.no_mlc:
        print("PaddlePaddle/docs: markdown-link-check: skipped (--no-mlc)")
        return
    exe, why = install_mlc(args.npm_prefix)
    if exe is None:
        print(f"PaddlePaddle/docs: markdown-link-check: skipped: {why}")
        return
    try:
        mlc_time, dead = run_mlc(exe, docs, files)
    except subprocess.TimeoutExpired:
        print("PaddlePaddle/docs: markdown-link-check: gave up after 3600 s")
        return
    print(f"PaddlePaddle/docs: {why} (http(s) and mailto ignored): one run {mlc_time:.1f} s -> "
          f"{len(files) / mlc_time:,.0f} files/s; {len(dead)} dead link(s)")
    ratio = mlc_time / elapsed
    print(f"PaddlePaddle/docs: paddle_style_guide is {ratio:.1f}x faster than markdown-link-check; "
          f"target >= 5x: {'met' if ratio >= 5 else 'NOT met'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=10_000, help="synthetic pages (0 skips part 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=0, help="checker worker processes (0: per CPU)")
    ap.add_argument("--repeat", type=int, default=3, help="checker runs; the median is shown")
    ap.add_argument("--paddle-docs", metavar="PATH",
                    default="/work/.mirror/PaddlePaddle+docs/repo",
                    help="PaddlePaddle/docs checkout or bare git repository (default: %(default)s)")
    ap.add_argument("--paddle-limit", type=int, default=0, metavar="N",
                    help="only the first N Markdown files of it (0: all)")
    ap.add_argument("--no-mlc", action="store_true", help="do not run markdown-link-check")
    ap.add_argument("--npm-prefix", default=os.path.expanduser("~/.cache/paddle_style_guide/bench-npm"),
                    help="where markdown-link-check is installed (default: %(default)s)")
    args = ap.parse_args()

    load = os.getloadavg()[0]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; load average "
          f"{load:.1f}" + (" -- the machine is busy: these timings are noise" if load > 0.5 else ""))
    # The checker runs from this checkout; compile its bytecode first, as `pip install` does, so that
    # no run pays for compiling it (where PYTHONDONTWRITEBYTECODE is set, every run would).
    compileall.compile_dir(os.path.join(REPO, "paddle_style_guide"), quiet=1)
    print("paddle_style_guide: bytecode compiled first (as pip install does)")
    ok = True
    with tempfile.TemporaryDirectory(prefix="linkbench-") as tmp:
        if args.pages > 0:
            ok = bench_synthetic(args, tmp)
        bench_paddle_docs(args, tmp)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
