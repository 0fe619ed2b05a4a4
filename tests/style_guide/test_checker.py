"""The checker on real pages: the fixture site, the seed page, and files
that cannot be read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, write

from paddle_style_guide import Options, check_paths
from paddle_style_guide.checker import FILE_TARGET


def problems(paths, **options):
    result = check_paths([str(p) for p in paths], Options(**options))
    return result, [(p.file, p.line, p.target, p.reason) for p in result.problems]


def marked_lines(root):
    """(file, line) of every fixture line marked BROKEN: each holds one broken link."""
    found = set()
    for path in sorted(root.rglob("*.md")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if "BROKEN" in line and not line.startswith("Fixture for"):
                found.add((os.path.relpath(path), number))
    return found


def test_fixture_site_reports_exactly_the_broken_links(monkeypatch):
    site = FIXTURES / "paddle_site"
    monkeypatch.chdir(site)
    result, found = problems(["."])
    expected = marked_lines(site)
    assert len(expected) == 11
    assert {(f, line) for f, line, _, _ in found} == expected
    assert len(found) == len(expected)  # one problem per marked line
    reasons = {target: reason for _, _, target, reason in found}
    assert reasons["./222.md#2"] == "no such file: 222.md"
    assert reasons["./quant.md#9"] == 'no anchor "9" in quant.md'
    assert reasons["./code_only.md#ghost"] == 'no anchor "ghost" in code_only.md'
    assert reasons["#1-准备"].startswith('no anchor "1-准备" on this page; did you mean "#1-准备数据"')
    assert reasons["./img/none.png"] == "no such file: img/none.png"
    assert reasons["../index.md#99"] == 'no anchor "99" in index.md'
    assert result.files == 4 and result.links == 33
    # the external link was collected, not requested
    assert [e.url for e in result.external] == ["https://example.invalid/page#x"]


def test_seed_page(seed_page, tmp_path):
    page = tmp_path / "seed.md"
    shutil.copy(seed_page, page)
    _, found = problems([page])
    assert found == [(str(page), 8, "./222.md#2", f"no such file: {tmp_path / '222.md'}")]

    write(tmp_path / "222.md", '# Page 222\n\n<a name="2"></a>\n\n## 2. Section\n')
    assert problems([page])[1] == []

    write(tmp_path / "222.md", '# Page 222\n\n```html\n<a name="2"></a>\n```\n')
    _, found = problems([page])
    assert [(line, target) for _, line, target, _ in found] == [(8, "./222.md#2")]
    assert 'no anchor "2"' in found[0][3]


def test_slug_styles(tmp_path):
    write(tmp_path / "p.md", "# Title\n\n#### Deep heading\n\n[deep](#deep-heading)\n")
    assert problems([tmp_path], slugs="both")[1] == []
    assert problems([tmp_path], slugs="github")[1] == []
    # MyST gives slugs to levels 1-3 only (myst_heading_anchors = 3)
    assert len(problems([tmp_path], slugs="myst")[1]) == 1
    assert problems([tmp_path], slugs="myst", myst_heading_anchors=4)[1] == []


def test_labels_resolve_across_pages_case_insensitively(tmp_path):
    write(tmp_path / "a.md", "# A\n\n(INT8-Calibration)=\n## Calibrate\n")
    write(tmp_path / "b.md", "# B\n\n[x](#int8-calibration) [y](./a.md#int8-calibration) [z](#other)\n")
    _, found = problems([tmp_path])
    assert [target for _, _, target, _ in found] == ["#other"]


def test_sphinx_style_targets(tmp_path):
    write(tmp_path / "docs" / "page.md", '# Page\n\n<a name="1"></a>\n\n## 1. One\n')
    write(tmp_path / "docs" / "guide" / "index.md", "# Guide index\n")
    write(
        tmp_path / "docs" / "links.md",
        "# Links\n\n[a](page.html#1) [b](page#1) [c](page/) [d](guide/) [e](guide/index.html)\n"
        "[f](/docs/page.md#1) [g](project:page.md#1) [h](page.html#2)\n",
    )
    _, found = problems([tmp_path / "docs"], root=str(tmp_path))
    # a slash after a file name is a 404 on GitHub (issue 18); the rest resolves
    assert [(target, reason.split(" in ")[0].rsplit("/", 1)[-1]) for _, _, target, reason in found] == [
        ("page/", "page.md is a file, not a folder: a 404 on GitHub"),
        ("page.html#2", 'no anchor "2"')]
    _, found = problems([tmp_path / "docs"], root=str(tmp_path), disable=frozenset({"trailing-slash"}))
    assert [target for _, _, target, _ in found] == ["page.html#2"]
    # Sphinx-style links reported on request
    _, found = problems([tmp_path / "docs"], root=str(tmp_path), enable=frozenset({"html-link"}))
    assert [target for _, _, target, _ in found] == [
        "page.html#1", "page#1", "page/", "guide/index.html", "page.html#2"]


def test_gbk_encoded_page(tmp_path):
    page = tmp_path / "gbk.md"
    page.write_bytes("# Title\n\n中文标题 [x](#1)\n".encode("gbk"))
    _, found = problems([page])
    assert len(found) == 1
    file, line, target, reason = found[0]
    assert (line, target) == (3, FILE_TARGET)
    assert "not valid UTF-8" in reason and "GB18030" in reason


def test_binary_and_utf16_files(tmp_path):
    (tmp_path / "bin.md").write_bytes(b"# x\n\x00\x01\x02\xff")
    (tmp_path / "u16.md").write_bytes("# 标题\n".encode("utf-16"))
    _, found = problems([tmp_path])
    assert [(os.path.basename(f), reason.split(" (")[0].split(";")[0]) for f, _, _, reason in found] == [
        ("bin.md", "binary file"), ("u16.md", "file is UTF-16 encoded")]


def test_bom_and_crlf_are_fine(tmp_path):
    (tmp_path / "w.md").write_bytes('\ufeff# T\r\n\r\n<a name="1"></a>\r\n\r\n[x](#1) [y](#2)\r\n'.encode())
    _, found = problems([tmp_path])
    assert [(line, target) for _, line, target, _ in found] == [(5, "#2")]


def test_symlink_loops_are_reported(tmp_path):
    write(tmp_path / "ok.md", "# ok\n\n[fine](#ok)\n")
    os.symlink("b.md", tmp_path / "a.md")
    os.symlink("a.md", tmp_path / "b.md")
    os.symlink("missing-target.md", tmp_path / "dangling.md")
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "up")  # a directory loop
    result, found = problems([tmp_path])
    by_file = {os.path.basename(f): reason for f, _, _, reason in found}
    assert by_file["a.md"].startswith("symbolic link loop")
    assert by_file["b.md"].startswith("symbolic link loop")
    assert by_file["dangling.md"].startswith("broken symbolic link")
    assert by_file["up"].startswith("symbolic link loop (points to a directory above it)")
    assert len(found) == 4
    assert result.links == 1  # ok.md was still checked


def test_directory_and_fifo_named_md(tmp_path):
    (tmp_path / "dir.md").mkdir()
    os.mkfifo(tmp_path / "pipe.md")  # opening it would block: must not be opened
    _, found = problems([tmp_path / "pipe.md", tmp_path])  # reported once
    assert [(os.path.basename(f), r.split(",")[0]) for f, _, _, r in found] == [
        ("pipe.md", "not a regular file (a FIFO")]


def test_link_into_an_unreadable_page(tmp_path):
    (tmp_path / "gbk.md").write_bytes("# 标题\n".encode("gbk"))
    write(tmp_path / "a.md", "# A\n\n[x](./gbk.md#1)\n")
    _, found = problems([tmp_path / "a.md"])  # gbk.md itself is not among the paths
    assert len(found) == 1
    assert found[0][3].startswith("cannot check the anchor: ")
    assert "not valid UTF-8" in found[0][3]


def test_unreadable_file():
    """A file without read permission is reported (run as an unprivileged
    user when the tests run as root, for whom permissions do not apply)."""
    cmd = [sys.executable, "-m", "paddle_style_guide", "check", "--format", "json"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv is not installed")
        cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    # a world-traversable folder, so that the unprivileged user can reach it
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        write(work / "ok.md", "# ok\n").chmod(0o644)
        write(work / "secret.md", "# secret\n").chmod(0)
        proc = subprocess.run([*cmd, str(work)], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1, proc.stderr
    import json

    found = json.loads(proc.stdout)
    assert [(os.path.basename(p["file"]), p["reason"]) for p in found] == [
        ("secret.md", "permission denied: the file is not readable")]


def test_hidden_directories_and_excludes(tmp_path):
    write(tmp_path / ".hidden" / "x.md", "[x](#broken)\n")
    write(tmp_path / "build" / "y.md", "[y](#broken)\n")
    write(tmp_path / "z.md", "[z](#broken)\n")
    result, found = problems([tmp_path], exclude=("build",))
    assert [os.path.basename(f) for f, _, _, _ in found] == ["z.md"]


@pytest.mark.site  # the generated gallery pages too
def test_the_site_passes_the_checker():
    """docs/ (with generated gallery pages, when built), the guide and the
    README: every link resolves."""
    result, found = problems([ROOT / "docs", ROOT / "paddle_style_guide", ROOT / "README.md"])
    assert found == []
    assert result.files >= 10


@pytest.mark.site
def test_the_site_passes_the_checker_with_the_sphinx_rules():
    """The same pages resolved as the site build resolves them (conf.py at the root)."""
    result = check_paths([str(ROOT / "docs"), str(ROOT / "paddle_style_guide" / "guide")],
                         Options(rules="sphinx"))
    assert [str(p) for p in result.problems] == []
    assert result.files >= 10
