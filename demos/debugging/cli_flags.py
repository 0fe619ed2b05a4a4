"""Check the ``polygraphy`` and ``trtexec`` commands that the site shows in its console blocks.

Readers copy these commands to a GPU machine this site cannot test on, so a misspelled or removed option
would only show up there. Two checks catch it here:

* ``polygraphy`` commands are parsed by Polygraphy's own argument parser (the pinned version; its ``-h``
  and its parser work without TensorRT). Every option must be spelled out in full (no prefixes that
  ``argparse`` would silently expand) and the command must parse without errors. The command after
  ``debug ... --check`` is checked the same way.
* ``trtexec`` is a C++ program that is not installable here, so its options are checked against
  ``trtexec_flags.toml``: the option must exist in every TensorRT major version the block names
  (``# TensorRT 10``, ``# TensorRT 11`` or ``# TensorRT 10 and 11`` on a line of the block), a
  deprecated option only in a block that also targets a release where it is not deprecated, and an
  option with a fixed set of values must use one of them.

Console blocks are fenced ``console`` blocks in Markdown and ``.. code-block:: console`` blocks in the
text of gallery scripts. A command may continue over several lines with a trailing backslash.

    python -m demos.debugging.cli_flags            # check every page of the site
    python -m demos.debugging.cli_flags FILE ...   # check some pages
"""

from __future__ import annotations

import re
import shlex
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLAGS_FILE = Path(__file__).with_name("trtexec_flags.toml")
TOOLS = ("polygraphy", "trtexec")
_VERSIONS = re.compile(r"^#\s*TensorRT\s+(\d+)(?:\s*(?:and|,)\s*(\d+))?\b", re.I)


@dataclass
class Command:
    source: str  # file:line of the command's first line
    tool: str
    argv: list[str]  # after the tool name
    versions: tuple[int, ...] = ()  # TensorRT major versions named by the block

    @property
    def text(self) -> str:
        return " ".join([self.tool, *self.argv])


@dataclass
class Block:
    source: str
    first_line: int
    lines: list[str] = field(default_factory=list)


# --- Finding the commands ---------------------------------------------------------------------------------

def _markdown_blocks(path: Path, text: str) -> list[Block]:
    blocks, cur = [], None
    for no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if cur is None and re.match(r"^(```+|~~~+)\s*console\b", stripped):
            cur = Block(str(path), no + 1)
        elif cur is not None and re.match(r"^(```+|~~~+)\s*$", stripped):
            blocks.append(cur)
            cur = None
        elif cur is not None:
            cur.lines.append(line)
    return blocks


def _gallery_blocks(path: Path, text: str) -> list[Block]:
    """``.. code-block:: console`` directives in the comment text of a sphinx-gallery script."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^#(\s*)\.\. code-block::\s*console\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent = len(m.group(1))
        block = Block(str(path), i + 2)
        i += 1
        while i < len(lines) and lines[i].startswith("#"):
            body = lines[i][1:]
            if body.strip() and (len(body) - len(body.lstrip())) <= indent:
                break  # back to the text's indentation: the directive ended
            if body.strip().startswith(":"):  # a directive option such as :caption:
                i += 1
                continue
            block.lines.append(body)
            i += 1
        blocks.append(block)
    return blocks


def blocks_in(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return _gallery_blocks(path, text) if path.suffix == ".py" else _markdown_blocks(path, text)


def commands_in(block: Block) -> list[Command]:
    """The ``$ polygraphy``/``$ trtexec`` commands of a console block, with the versions it names."""
    versions: tuple[int, ...] = ()
    commands, pending, start = [], None, 0
    for offset, raw in enumerate(block.lines):
        line = raw.strip()
        m = _VERSIONS.match(line)
        if m:
            versions = tuple(int(v) for v in m.groups() if v)
            continue
        if pending is not None:
            pending += " " + line
        elif line.startswith("$ "):
            pending, start = line[2:], offset
        else:
            continue
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        words = shlex.split(pending, comments=True)
        if words and Path(words[0]).name in TOOLS:
            commands.append(Command(f"{block.source}:{block.first_line + start}", Path(words[0]).name,
                                    words[1:], versions))
        pending = None
    return commands


def site_pages(root: Path = ROOT) -> list[Path]:
    pages = [p for pattern in ("docs/**/*.md", "paddle_style_guide/guide/*.md", "README.md", "gallery/**/*.py")
             for p in sorted(root.glob(pattern)) if "locales" not in p.parts]
    return pages


def site_commands(paths=None) -> list[Command]:
    out = []
    for path in paths or site_pages():
        for block in blocks_in(Path(path)):
            out.extend(commands_in(block))
    return out


# --- Polygraphy ---------------------------------------------------------------------------------------------

def _leaf_parser(top, argv: list[str]):
    """The (sub)parser that handles ``argv``: ``polygraphy inspect model ...`` -> the ``model`` parser."""
    import argparse

    parser, rest = top, list(argv)
    while True:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or not rest or rest[0] not in subs[0].choices:
            return parser
        parser, rest = subs[0].choices[rest[0]], rest[1:]


def check_polygraphy(argv: list[str], parser=None) -> list[str]:
    """Problems with ``polygraphy ARGV`` according to Polygraphy's own parser (empty list: none)."""
    import argparse
    import contextlib
    import io

    from demos.debugging import polygraphy_cli

    top = parser or polygraphy_cli.parser()
    problems = []
    nested: list[str] = []
    if "--check" in argv:  # `debug ... --check polygraphy run ...`: the rest is another command
        i = argv.index("--check")
        argv, nested = argv[:i + 1] + ["true"], argv[i + 1:]
    leaf = _leaf_parser(top, argv)
    known = {s for a in leaf._actions for s in a.option_strings}
    for word in argv:
        opt = word.split("=", 1)[0]
        if opt.startswith("--") and opt not in known:
            problems.append(f"unknown option {opt} for `polygraphy {' '.join(leaf.prog.split()[1:])}`")
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            _, unknown = top.parse_known_args(argv)
        if unknown:
            problems.append(f"not understood: {' '.join(unknown)}")
    except (SystemExit, argparse.ArgumentError) as exc:
        msg = err.getvalue().strip().splitlines()[-1:] or [str(exc)]
        problems.append(f"Polygraphy's parser rejects it: {msg[0]}")
    if nested:
        if Path(nested[0]).name == "polygraphy":
            problems += [f"in --check: {p}" for p in check_polygraphy(nested[1:], top)]
    return sorted(set(problems), key=problems.index)


# --- trtexec ---------------------------------------------------------------------------------------------

def load_flags(path: Path = FLAGS_FILE) -> dict:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return data


def _release(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split(".")]
    return tuple((parts + [0, 0, 0])[:3])


def check_trtexec(argv: list[str], versions: tuple[int, ...], flags: dict | None = None) -> list[str]:
    """Problems with ``trtexec ARGV`` on the TensorRT major ``versions`` (empty list: none)."""
    table = (flags or load_flags())["options"]
    if not versions:
        return ["the block does not say which TensorRT version it is for "
                "(add a line `# TensorRT 10`, `# TensorRT 11` or `# TensorRT 10 and 11`)"]
    problems = []
    for word in argv:
        if not word.startswith("-"):
            problems.append(f"{word!r} is not an option (trtexec takes --name or --name=value)")
            continue
        name, _, value = word.partition("=")
        entry = table.get(name)
        if entry is None:
            problems.append(f"{name} is not in {FLAGS_FILE.name} (add it with its sources, or fix the spelling)")
            continue
        added = _release(entry["added"])
        removed = _release(entry["removed"]) if "removed" in entry else None
        deprecated = _release(entry["deprecated"]) if "deprecated" in entry else None
        for major in versions:
            if added > (major, 0, 0):
                problems.append(f"{name} appeared in TensorRT {entry['added']}, after {major}.0")
            if removed is not None and removed[0] <= major:
                problems.append(f"{name} was removed in TensorRT {entry['removed']}")
        if deprecated is not None:
            current = [m for m in versions if deprecated[0] <= m]
            older = [m for m in versions if deprecated[0] > m]
            if current and not older:
                problems.append(f"{name} is deprecated since TensorRT {entry['deprecated']} (a no-op); "
                                "leave it out, or show the command for an older version too")
        if "values" in entry and value not in entry["values"]:
            problems.append(f"{name}={value}: expected one of {', '.join(entry['values'])}")
    return problems


def check(commands: list[Command]) -> list[str]:
    """One line per problem, prefixed with where the command is."""
    from demos.debugging import polygraphy_cli

    parser = polygraphy_cli.parser() if any(c.tool == "polygraphy" for c in commands) else None
    flags = load_flags()
    out = []
    for c in commands:
        found = check_polygraphy(c.argv, parser) if c.tool == "polygraphy" else check_trtexec(c.argv, c.versions, flags)
        out += [f"{c.source}: `{c.text}`: {p}" for p in found]
    return out


def main(argv: list[str] | None = None) -> int:
    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    commands = site_commands(paths or None)
    problems = check(commands)
    for line in problems:
        print(line)
    tools = sorted({c.tool for c in commands})
    print(f"cli_flags: {len(commands)} command(s) of {', '.join(tools) or 'no tool'} checked, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
