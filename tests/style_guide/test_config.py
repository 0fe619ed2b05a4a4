"""Adopting the checker in another project: the [tool.paddle_style_guide]
table, ignore patterns and rule switches, --root and --conf defaults, the
output format, --help and --version (issue 18)."""

from __future__ import annotations

import json
import os

import pytest
from conftest import run_cli, write

from paddle_style_guide import __version__
from paddle_style_guide.checker import SWITCHES, Options, default_root
from paddle_style_guide.cli import main
from paddle_style_guide.config import load_settings
from paddle_style_guide.sphinx_conf import read_conf


run = run_cli


@pytest.fixture
def project(tmp_path):
    """A repository with a Sphinx project in docs/ and a page outside it."""
    (tmp_path / ".git").mkdir()
    write(tmp_path / "docs" / "conf.py", 'extensions = ["myst_parser"]\nmyst_heading_anchors = 2\n')
    write(tmp_path / "docs" / "index.md", "# Home\n\n## Part two\n\n### Part three\n")
    write(tmp_path / "docs" / "guide" / "page.md",
          "# Page\n\n[home](/index.md#part-two)\n\n[deep](../index.md#part-three)\n\n"
          "[empty]()\n\n[wiki](https://internal.example/x)\n\n[old](../index.html)\n")
    return tmp_path


def test_pyproject_table_sets_the_options(project):
    write(project / "pyproject.toml", """
        [tool.paddle_style_guide]
        rules = "sphinx"
        paths = ["docs"]
        ignore = ["^https://internal\\\\."]
        disable = ["empty-target"]
        """)
    code, out, err = run("check", cwd=project / "docs" / "guide")  # settings found above
    assert err == ""
    lines = out.splitlines()
    # sphinx rules with conf.py's depth 2: #part-three is no slug (but an id: the
    # build warns, the link works); page.html is dead; the empty target is not reported
    assert lines[:-1] == [
        "page.md:5:8: warning: ../index.md#part-three: the build warns "
        '(myst.xref_missing): "part-three" in ../index.md is an id but not a slug or label; '
        "the link works",
        "page.md:11:7: error: ../index.html: links to built pages do not resolve: "
        "link to the source ../index.md",
    ]
    assert lines[-1] == "checked 2 file(s), 5 link(s), 1 ignored: 1 error(s), 1 warning(s)"
    assert code == 1

    # the command line wins: github rules, empty targets back on
    code, out, _ = run("check", "--rules", "github", "--enable", "empty-target", cwd=project)
    assert [line.split(": ")[1:3] for line in out.splitlines()[:-1]] == [["error", ""]]
    assert "empty link target" in out


def test_bad_tables_are_usage_errors(project, capsys, monkeypatch):
    write(project / "pyproject.toml", "[tool.paddle_style_guide]\nrule = 'sphinx'\n")
    monkeypatch.chdir(project)
    with pytest.raises(SystemExit) as exc:
        main(["check", "docs"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"python -m paddle_style_guide: error: {project / 'pyproject.toml'}: "
                          "[tool.paddle_style_guide]: unknown key 'rule'; the keys are: rules,")
    for text, message in [
        ("[tool.paddle_style_guide]\nignore = 3\n", "ignore must be a list of strings"),
        ("[tool.paddle_style_guide]\nmyst-heading-anchors = -1\n", "must be a whole number"),
        ("[tool.paddle_style_guide\n", "not valid TOML"),
        ("[tool.paddle_style_guide]\nrules = 'gitlab'\n", "--rules must be one of github, sphinx"),
        ("[tool.paddle_style_guide]\nenable = ['no-such']\n", "unknown rule 'no-such'"),
        ("[tool.paddle_style_guide]\nignore = ['(']\n", "ignore pattern '('"),
    ]:
        write(project / "pyproject.toml", text)
        with pytest.raises(SystemExit) as exc:
            main(["check", "docs"])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


def test_settings_merge_command_line_over_table(project):
    write(project / "pyproject.toml", """
        [tool.paddle_style_guide]
        ignore = ["a"]
        enable = ["html-link"]
        conf = "docs/conf.py"
        """)
    settings = load_settings(str(project / "pyproject.toml"))
    assert settings.conf == str(project / "docs" / "conf.py")  # relative to the pyproject
    merged = settings.merged(ignore=["b"], disable=["html-link"], rules="sphinx")
    assert merged.ignore == ("a", "b") and merged.rules == "sphinx"
    assert merged.enable == () and merged.disable == ("html-link",)


def test_root_defaults_to_the_conf_py_folder_then_the_repository(project, tmp_path_factory):
    assert default_root(str(project / "docs" / "guide")) == str(project / "docs")
    write(project / "notes" / "n.md", "[x](/docs/index.md)\n")
    assert default_root(str(project / "notes")) == str(project)  # no conf.py: the repository
    code, out, _ = run("check", "notes", "docs/guide", "--disable", "empty-target", cwd=project)
    assert code == 0, out  # "/index.md" from docs/guide, "/docs/index.md" from notes
    # the working directory is never the root: the same result from elsewhere
    code, out, _ = run("check", str(project / "notes"), cwd=tmp_path_factory.mktemp("elsewhere"))
    assert code == 0, out
    lonely = tmp_path_factory.mktemp("lonely")  # no conf.py, no repository
    write(lonely / "a.md", "[x](/b.md)\n")
    code, out, _ = run("check", "a.md", cwd=lonely)
    assert "no conf.py or repository root above the page; name the root with --root" in out


def test_rules_sphinx_needs_a_conf_py(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / "a.md", "# A\n")
    with pytest.raises(SystemExit) as exc:
        main(["check", str(tmp_path / "a.md"), "--rules", "sphinx"])
    assert exc.value.code == 2
    assert "--rules sphinx: no conf.py in or above" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["check", str(tmp_path / "a.md"), "--rules", "sphinx", "--conf", "/no/conf.py"])
    assert "--conf: no such file: /no/conf.py" in capsys.readouterr().err


def test_conf_py_is_read_without_running_it(tmp_path):
    conf = write(tmp_path / "conf.py", """
        import os
        raise SystemExit("conf.py must not run")
        extensions = ["myst_parser"]
        extensions += ["sphinx_design"]
        myst_heading_anchors = 4
        exclude_patterns = ["_build"]
        include_patterns = os.environ.get("X", "**").split()
        html_extra_path = ["extra"]
        """)
    read = read_conf(str(conf))
    assert read.heading_anchors == 4
    assert read.exclude_patterns == ("_build",)
    assert read.include_patterns == ("**",)  # computed at run time: the default
    assert read.source_suffixes == (".rst", ".md")
    assert read.extra_paths == (str(tmp_path / "extra"),)
    assert read.notes == ("conf.py: include_patterns is computed when Sphinx runs; the checker "
                          "uses its default",)


def test_ignore_patterns_and_rule_switches(project):
    page = str(project / "docs" / "guide" / "page.md")
    code, out, _ = run("check", page, "--ignore", r"^https://internal\.", "--ignore", "index",
                       "--disable", "empty-target", cwd=project)
    assert code == 0 and out.strip() == "checked 1 file(s), 5 link(s), 4 ignored: 0 error(s), 0 warning(s)"
    assert set(SWITCHES) == {"empty-target", "html-link", "trailing-slash"}
    assert Options(disable=frozenset({"empty-target"})).switched_on("empty-target") is False


def test_output_paths_are_relative_to_the_working_directory(project):
    code, out, err = run("check", "docs/guide/page.md", "--format", "json", cwd=project)
    assert code == 1 and err == ""
    assert [(p["file"], p["line"], p["column"], p["severity"]) for p in json.loads(out)] == [
        ("docs/guide/page.md", 7, 1, "error")]
    code, out, _ = run("check", str(project / "docs"), cwd=project / "docs" / "guide")
    assert out.startswith("page.md:7:1: error: : empty link target")


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"paddle_style_guide {__version__}"
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for policy in ("Links to page.html and to page (no suffix) are accepted",
                   "hidden folders (.name) are not searched", "an empty target [text]() is reported",
                   "a folder link is accepted", "links to folders",
                   "[tool.paddle_style_guide] table in the nearest pyproject.toml",
                   "file:line:column: severity: target: reason"):
        assert policy in text, policy
