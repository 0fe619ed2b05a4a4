"""Fenced code blocks of MyST pages and the tags that say what each block needs.

Convention (see ``paddle_style_guide/guide/code-blocks.md``):

- A fenced ``python`` block is executed by the test suite unless its first
  comment lines carry ``# requires: TOKEN[, TOKEN...]`` with tokens from
  :data:`REQUIRES` (``tensorrt``, ``tensorrt-rtx``, ``gpu``, ``context``).
- ``# trt-api: 10, 11`` says which TensorRT versions the block supports
  (default: every introspected version); a version older than those is a
  legacy example and its TensorRT names are not checked.
- A ``bash``/``console`` block runs in the tests only when its first line is
  ``# test: run``; then every command in it must start with ``python``.

Tags are only read from the leading comment lines of a block.  The site's pages
do not show them: docs/_ext/block_tags.py removes them at render time and puts a
note such as "not run when this site was built" above a block that needs more
than this machine has.

Code that would escape both the test run and the API check is reported as an
error: an indented code block, a fence without a language, a Python console
block (``pycon``, ``ipython``), and a shell block that runs the demo CLI
(``python -m demos...``) without ``# test: run``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin

PYTHON_LANGS = {"python", "py", "python3"}
SHELL_LANGS = {"bash", "sh", "shell", "console", "shell-session"}
CODE_DIRECTIVES = {"code-block", "code", "sourcecode", "code-cell"}
REQUIRES = {
    "tensorrt": "needs the TensorRT runtime and an NVIDIA GPU",
    "tensorrt-rtx": "needs TensorRT-RTX set up (an RTX GPU to run engines)",
    "gpu": "needs a CUDA GPU",
    "context": "continues the previous block on the page (names defined there)",
}
TAG = re.compile(r"^#\s*(requires|trt-api|test)\s*:\s*(.*?)\s*$")
# Interactive-session Python: neither runnable nor parseable as a module.
SESSION_LANGS = {"pycon", "ipython", "ipython3", "python-console"}
DEMO_CLI = re.compile(r"^(?:\$\s+)?python3?\s+-m\s+demos(?:\.|\s|$)", re.M)
# reST Python code inside text (``{eval-rst}`` in a page, the narrative of a gallery script).
RST_PYTHON = re.compile(r"^[ \t]*(?:#[ \t]*)?\.\.[ \t]+(?:code-block|code|sourcecode)::[ \t]*"
                        r"(?:python3?|py|pycon|ipython3?)[ \t]*$", re.M)
RST_PYTHON_MESSAGE = ("Python code in reST text is neither run nor checked: use a fenced ```python block "
                      "(a code cell in a gallery script)")


def rst_python_lines(text: str) -> list[int]:
    """1-based lines of reST ``.. code-block:: python`` directives in ``text``."""
    return [text.count("\n", 0, m.start()) + 1 for m in RST_PYTHON.finditer(text)]


class TagError(ValueError):
    """A malformed tag; the message says what is accepted."""


@dataclasses.dataclass
class Block:
    path: Path
    line: int  # 1-based line in ``path`` of the first code line
    lang: str  # normalised: "python" or "shell"
    code: str
    tags: dict[str, str]

    @property
    def requires(self) -> set[str]:
        return {t.strip() for t in re.split(r"[,\s]+", self.tags.get("requires", "")) if t.strip()}

    @property
    def runnable(self) -> bool:
        """Python: executed unless tagged ``requires``; shell: only with ``# test: run``."""
        if self.lang == "python":
            return not self.requires
        return self.tags.get("test", "") == "run"

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def read_tags(code: str, lang: str) -> dict[str, str]:
    """Tags from the leading comment lines of a block (``# key: value``)."""
    tags: dict[str, str] = {}
    for line in code.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        m = TAG.match(stripped)
        if m:
            key, value = m.groups()
            if key in tags:
                raise TagError(f"tag `{key}` given twice")
            tags[key] = value
    if "requires" in tags:
        tokens = {t for t in re.split(r"[,\s]+", tags["requires"]) if t}
        unknown = sorted(tokens - REQUIRES.keys())
        if unknown or not tokens:
            raise TagError(
                f"`# requires: {tags['requires']}`: unknown token {', '.join(unknown) or '(empty)'}; "
                f"use one or more of {', '.join(sorted(REQUIRES))}"
            )
        if lang != "python":
            raise TagError("`# requires:` is for python blocks; shell blocks run only with `# test: run`")
    if "test" in tags and (tags["test"] != "run" or lang != "shell"):
        raise TagError("`# test:` only takes `run`, and only in bash/console blocks")
    return tags


def _code_start(content: str) -> int:
    """Lines of directive options (``:key: value`` or a ``---`` YAML block) before the code."""
    lines = content.splitlines()
    i = 0
    if lines and lines[0].strip() == "---":
        end = next((j for j in range(1, len(lines)) if lines[j].strip() == "---"), None)
        if end is not None:
            i = end + 1
    else:
        while i < len(lines) and re.match(r"^:[\w-]+:", lines[i]):
            i += 1
    if i and i < len(lines) and not lines[i].strip():
        i += 1
    return i


_MD = MarkdownIt("commonmark").use(colon_fence_plugin)


def _walk(text: str, offset: int, path: Path, out: list[Block], errors: list[tuple[Path, int, str]]) -> None:
    for tok in _MD.parse(text):
        if tok.type == "code_block" and tok.map is not None:
            errors.append((path, offset + tok.map[0] + 1,
                           "indented code block: use a fenced block with a language (python, console, text, markdown)"))
            continue
        if tok.type not in ("fence", "colon_fence") or tok.map is None:
            continue
        info = tok.info.strip()
        first = offset + tok.map[0] + 1  # 0-based line of the first content line
        content = tok.content
        lang = info.split()[0].lower() if info else ""
        m = re.match(r"^\{([\w-]+)\}\s*(.*)$", info)
        if m:
            directive, argument = m.groups()
            if directive == "eval-rst":
                errors += [(path, first + n, RST_PYTHON_MESSAGE) for n in rst_python_lines(content)]
                continue
            if directive not in CODE_DIRECTIVES:
                _walk(content, first, path, out, errors)  # admonitions etc. hold Markdown
                continue
            lang = (argument.split() or [""])[0].lower()
            skip = _code_start(content)
            first += skip
            content = "".join(content.splitlines(keepends=True)[skip:])
        if tok.type == "colon_fence" and not m:
            continue
        if not lang:
            errors.append((path, first, "code block without a language: name it after the fence "
                                        "(python, console, text or markdown)"))
            continue
        if lang in SESSION_LANGS:
            errors.append((path, first, f"`{lang}` blocks are neither run nor checked: write the code in a "
                                        "`python` block and its output in a `text` block"))
            continue
        kind = "python" if lang in PYTHON_LANGS else "shell" if lang in SHELL_LANGS else None
        if kind is None:
            continue
        try:
            tags = read_tags(content, kind)
        except TagError as exc:
            errors.append((path, first + 1, str(exc)))
            tags = {}
        block = Block(path, first + 1, kind, content, tags)
        if kind == "shell" and not block.runnable and DEMO_CLI.search(content):
            errors.append((path, first + 1, "this block runs the demo command line tool: start it with "
                                            "`# test: run` and give it inputs small enough for the tests"))
        out.append(block)


def extract(path: Path, text: str | None = None) -> tuple[list[Block], list[tuple[Path, int, str]]]:
    """Python and shell blocks of a Markdown file, and tag errors as (path, line, message)."""
    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    blocks: list[Block] = []
    errors: list[tuple[Path, int, str]] = []
    _walk(text, 0, Path(path), blocks, errors)
    return blocks, errors


def shell_commands(block: Block) -> list[str]:
    """Commands of a shell block: ``$ `` lines for console, non-comment lines for bash.

    Backslash continuations are joined.
    """
    lines = block.code.splitlines()
    if any(line.startswith("$ ") for line in lines):
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    commands, current = [], ""
    for line in lines:
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        commands.append(current + stripped)
        current = ""
    if current.strip():
        commands.append(current.strip())
    return commands


SHELL_META = re.compile(r"[|&;<>`$]|\(\)")


def python_argv(command: str, python: str) -> list[str]:
    """argv for a runnable shell command; only plain ``python ...`` commands are accepted."""
    import shlex

    if SHELL_META.search(command.replace("$ ", "", 1) if command.startswith("$ ") else command):
        raise TagError(f"`{command}`: runnable blocks take plain commands (no pipes, redirections or variables)")
    argv = shlex.split(command)
    if not argv or argv[0] not in ("python", "python3"):
        raise TagError(f"`{command}`: runnable blocks may only run `python ...` commands")
    return [python, *argv[1:]]
