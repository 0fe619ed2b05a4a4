"""``python -m paddle_style_guide check``: output formats and exit status."""

from __future__ import annotations

import json
import os

import pytest
from conftest import run_cli, write

from paddle_style_guide.cli import main


run = run_cli


@pytest.fixture
def pages(tmp_path):
    write(tmp_path / "good.md", '# Good\n\n<a name="1"></a>\n\n## 1. One\n\n[one](#1)\n')
    write(tmp_path / "bad.md", "# Bad\n\n[one](./good.md#1)\n[two](./good.md#2)\n[gone](./gone.md)\n")
    return tmp_path


def test_text_output_and_exit_1(pages):
    code, out, err = run("check", str(pages), cwd=pages)
    assert code == 1
    # file:line:column: severity: target: reason, and the summary, all on stdout
    assert out.splitlines() == [
        'bad.md:4:7: error: ./good.md#2: no anchor "2" in good.md',
        "bad.md:5:8: error: ./gone.md: no such file: gone.md",
        "checked 2 file(s), 4 link(s): 2 error(s), 0 warning(s)",
    ]
    assert err == ""


def test_json_output(pages):
    code, out, _ = run("check", str(pages / "bad.md"), "--format", "json", cwd=pages)
    assert code == 1
    assert json.loads(out) == [
        {"file": "bad.md", "line": 4, "column": 7, "severity": "error", "target": "./good.md#2",
         "reason": 'no anchor "2" in good.md'},
        {"file": "bad.md", "line": 5, "column": 8, "severity": "error", "target": "./gone.md",
         "reason": "no such file: gone.md"},
    ]


def test_clean_pages_exit_0(pages, capsys):
    assert main(["check", str(pages / "good.md"), "--format", "json", "-q"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [] and captured.err == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["check"], "the following arguments are required: PATH"),
        (["check", "x.md", "--format", "xml"], "invalid choice: 'xml'"),
        (["lint", "x.md"], "invalid choice: 'lint'"),
        (["check", "/no/such/path.md"], "no such file or directory: /no/such/path.md"),
        (["check", ".", "--jobs", "-1"], "must be 0 or more"),
        (["check", ".", "--root", "/no/such/dir"], "--root: not a directory"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_usage_error_from_the_command_line():
    code, out, err = run("check", "definitely-missing.md")
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1] == (
        "python -m paddle_style_guide: error: no such file or directory: definitely-missing.md")


def test_help_exits_0(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--help"])
    assert exc.value.code == 0
    assert "--external" in capsys.readouterr().out


def test_many_files_use_worker_processes(tmp_path, capsys):
    """Above the parallel threshold the result is the same as serially."""
    for i in range(80):
        write(tmp_path / f"p{i:02d}.md", f'# P{i}\n\n<a name="1"></a>\n\n[next](./p{i + 1:02d}.md#1)\n')
    assert main(["check", str(tmp_path), "--jobs", "2", "--format", "json", "-q"]) == 1
    parallel = json.loads(capsys.readouterr().out)
    assert main(["check", str(tmp_path), "--jobs", "1", "--format", "json", "-q"]) == 1
    assert json.loads(capsys.readouterr().out) == parallel
    assert [(os.path.basename(p["file"]), p["target"]) for p in parallel] == [("p79.md", "./p80.md#1")]


def test_exact_mode_agrees_on_the_fixture_site(capsys, monkeypatch):
    from conftest import FIXTURES

    monkeypatch.chdir(FIXTURES / "paddle_site")
    assert main(["check", ".", "--format", "json", "-q"]) == 1
    fast = json.loads(capsys.readouterr().out)
    assert main(["check", ".", "--format", "json", "-q", "--exact"]) == 1
    assert json.loads(capsys.readouterr().out) == fast and len(fast) == 11
