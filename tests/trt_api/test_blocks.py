"""Reading fenced code blocks and their tags from MyST pages."""

import pytest

from paddle_style_guide.trt_api import blocks

from .conftest import FIXTURES


def test_fixture_page():
    found, errors = blocks.extract(FIXTURES / "page.md")
    assert errors == []
    assert [(b.line, b.lang, sorted(b.requires), b.runnable) for b in found] == [
        (6, "python", [], True),
        (14, "python", ["tensorrt"], False),
        (25, "python", ["context", "tensorrt"], False),
        (32, "python", ["tensorrt"], False),
        (41, "python", ["tensorrt"], False),  # inside a :::{note} directive
        (48, "shell", [], True),
    ]
    assert found[3].tags["trt-api"] == "7"
    assert blocks.shell_commands(found[5]) == ["python -c \"print('ran')\""]


def test_directives_options_and_lists(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "````{admonition} Nested\n"  # 1
        "```{code-block} python\n"  # 2
        ":caption: A caption\n"  # 3
        ":linenos:\n"  # 4
        "\n"  # 5
        "x = 1\n"  # 6
        "```\n"
        "````\n"
        "\n"
        "- item\n"  # 10
        "\n"
        "  ```python\n"  # 12
        "  y = 2\n"  # 13
        "  ```\n"
        "\n"
        "```text\nnot code\n```\n"
        "```console\n# test: run\n$ python -m demos.resnet50 --help\nusage: ...\n```\n"
    )
    found, errors = blocks.extract(page)
    assert errors == []
    assert [(b.line, b.code) for b in found if b.lang == "python"] == [(6, "x = 1\n"), (13, "y = 2\n")]
    (console,) = [b for b in found if b.lang == "shell"]
    assert console.runnable and blocks.shell_commands(console) == ["python -m demos.resnet50 --help"]


@pytest.mark.parametrize(
    "code, lang, message",
    [
        ("# requires: cuda\n", "python", "unknown token cuda"),
        ("# requires:\n", "python", r"unknown token \(empty\)"),
        ("# requires: tensorrt\n# requires: gpu\n", "python", "given twice"),
        ("# requires: gpu\n", "shell", "is for python blocks"),
        ("# test: yes\n", "shell", "only takes `run`"),
        ("# test: run\n", "python", "only takes `run`, and only in bash/console blocks"),
    ],
)
def test_bad_tags(code, lang, message):
    with pytest.raises(blocks.TagError, match=message):
        blocks.read_tags(code, lang)


def test_tags_only_at_the_top():
    assert blocks.read_tags("x = 1\n# requires: tensorrt\n", "python") == {}
    assert blocks.read_tags("#!/usr/bin/env python\n# requires: gpu\nx = 1\n", "python") == {"requires": "gpu"}


@pytest.mark.parametrize(
    "command, ok",
    [
        ("python -m demos.resnet50 export --limit 8", True),
        ("python3 tools/x.py", True),
        ("pip install foo", False),
        ("python -m demos.x | tee log", False),
        ("python -m demos.x > out.txt", False),
        ("python -m demos.x --out $HOME/x", False),
    ],
)
def test_python_argv(command, ok):
    if ok:
        assert blocks.python_argv(command, "/py")[0] == "/py"
    else:
        with pytest.raises(blocks.TagError):
            blocks.python_argv(command, "/py")


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("Text.\n\n    x = 1\n", 3, "indented code block"),
        ("```\nx = 1\n```\n", 1, "without a language"),
        ("```{code-block}\nx = 1\n```\n", 1, "without a language"),
        ("```pycon\n>>> x = 1\n```\n", 1, "`pycon` blocks are neither run nor checked"),
        ("```console\n$ python -m demos.resnet50 export --limit 8\n```\n", 2, "runs the demo command line tool"),
        ("```bash\npython -m demos --help\n```\n", 2, "runs the demo command line tool"),
    ],
)  # fmt: skip
def test_code_that_would_escape_the_tests_is_an_error(tmp_path, text, line, message):
    page = tmp_path / "p.md"
    page.write_text("# Title\n\n" + text)
    _, errors = blocks.extract(page)
    assert [(n, m) for _, n, m in errors if message in m] == [(line + 2, errors[0][2])], errors


def test_what_is_not_an_error(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "# Title\n\n"
        "- a list item\n\n    continued paragraph, not code\n\n"  # indented content of a list item
        "```text\n    indented output\n```\n\n"
        "```console\n$ python -m paddle_style_guide.trt_api check\n$ python -m demosaic\n```\n\n"  # not the demo CLI
        "```console\n# test: run\n$ python -m demos.resnet50 --help\n```\n\n"
        "```cpp\nint main() {}\n```\n"
    )
    assert blocks.extract(page)[1] == []


def test_block_errors_fail_the_repository_check(tmp_path):
    from paddle_style_guide.trt_api import check

    page = tmp_path / "p.md"
    page.write_text("# Title\n\n```console\n$ python -m demos.resnet50 eval\n```\n")
    units, problems = check.units_of(page, tmp_path)
    assert [(p.line, p.name) for p in problems] == [(4, "tag")] and units == []


def test_python_in_rst_text_is_an_error(tmp_path):
    from paddle_style_guide.trt_api import check

    page = tmp_path / "p.md"
    page.write_text("# Title\n\n```{eval-rst}\nText.\n\n.. code-block:: python\n\n   x = 1\n```\n")
    assert [(n, "neither run nor checked" in m) for _, n, m in blocks.extract(page)[1]] == [(6, True)]
    script = tmp_path / "gallery" / "s" / "plot_x.py"
    script.parent.mkdir(parents=True)
    script.write_text('"""\nTitle\n=====\n"""\n\n# %%\n# Text.\n#\n# .. code-block:: python\n#\n#    x = 1\n\n'
                      "# %%\n# .. code-block:: console\n#\n#    $ ls\nx = 2\n")
    units, problems = check.units_of(script, tmp_path)
    assert [(p.line, p.name) for p in problems] == [(9, "tag")] and len(units) == 1
    elsewhere = tmp_path / "demos" / "m.py"  # module docstrings of demos/ are not site text
    elsewhere.parent.mkdir()
    elsewhere.write_text('"""Module.\n\n.. code-block:: python\n\n   x = 1\n"""\n')
    assert check.units_of(elsewhere, tmp_path)[1] == []
