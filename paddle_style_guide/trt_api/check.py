"""Check that every TensorRT name our code uses exists in each version it claims to support.

Sources: Python files under demos/, gallery/, tools/ and fenced ``python`` blocks of
Markdown pages under docs/ and paddle_style_guide/ (:mod:`.blocks`).  Each source is
walked once per claimed TensorRT version with that version's API surface
(:mod:`.walker`, :mod:`.bindings`); a name missing from a version is reported as
``file:line: name: missing in TensorRT X``.

Version claims and guards (documented in ``paddle_style_guide/guide/code-blocks.md``):

- ``# trt-api: 10, 11`` on a line of its own declares the versions a file or block
  supports; default: all introspected TensorRT versions.  Versions older than the
  introspected ones mark legacy examples, which are not checked.  A minor version
  (``# trt-api: 10.9, 11``) says from which 10.x release on; without one, 10 means 10.0.
  Names that appeared in a later 10.x release than claimed are reported, from the
  record of first versions (:mod:`.first_versions`).
- ``if TRT_MAJOR >= 11:`` (any name ``TRT_MAJOR``, or a name assigned
  ``int(trt.__version__.split(".")[0])``), ``hasattr(x, "NAME")``,
  ``getattr(x, "NAME", None) is not None`` and their ``not``/``and``/``or``
  combinations select the branches walked for each version; ``if not ...: return``
  guards the rest of the block, as does ``assert``.
- Attribute uses inside ``try:`` with an ``except AttributeError`` handler are not reported.
- A function parameter named ``trt`` holds the ``tensorrt`` module (the demos pass it in).
"""

from __future__ import annotations

import ast
import dataclasses
import io
import re
import subprocess
import tokenize
from pathlib import Path

from . import blocks as md_blocks
from . import first_versions
from .bindings import REPO_ROOT, TARGETS, load_surfaces
from .surface import Surface
from .walker import Project, Walker

PY_ROOTS = ("demos", "gallery", "tools")
MD_ROOTS = ("docs", "paddle_style_guide")
EXCLUDE = ("docs/auto_gallery/", "docs/locales/", "docs/_build/", "build/")
CLAIM = re.compile(r"^#\s*trt-api\s*:\s*(.*?)\s*$", re.M)


@dataclasses.dataclass(frozen=True)
class Problem:
    path: str
    line: int
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.name}: {self.message}"


# --- sources --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Unit:
    """One piece of Python to check: a file or a Markdown code block."""

    path: str  # as shown in reports
    line: int  # line of the unit's first line in ``path``
    code: str
    continues: bool = False  # a ``# requires: context`` block: start from the previous block's names
    page: str | None = None
    file: Path | None = None  # the .py file itself (for relative imports)


def claim_lines(code: str) -> list[tuple[int, str]]:
    """(line, value) of every ``# trt-api: ...`` comment on a line of its own (real comments only)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return [(code.count("\n", 0, m.start()) + 1, m.group(1)) for m in CLAIM.finditer(code)]
    out = []
    for tok in tokens:
        if tok.type == tokenize.COMMENT and tok.start[1] == 0:
            m = CLAIM.match(tok.string)
            if m:
                out.append((tok.start[0], m.group(1)))
    return out


def parse_claims(code: str, known: list[str]) -> tuple[list[str] | None, str | None]:
    """(claimed versions to check, error) from a ``# trt-api:`` line; None = default."""
    found = [value for _, value in claim_lines(code)]
    if not found:
        return None, None
    if len(found) > 1:
        return None, "`# trt-api:` given more than once"
    tokens = [t for t in re.split(r"[,\s]+", found[0]) if t]
    if not tokens or not all(re.fullmatch(r"\d+(\.\d+)?", t) for t in tokens):
        return None, f"`# trt-api: {found[0]}`: expected TensorRT versions like `10, 11` or `10.9, 11`"
    majors = [t.split(".")[0] for t in tokens]
    oldest = min(int(k) for k in known)
    unknown = [t for t in majors if int(t) >= oldest and t not in known]
    if unknown:
        return None, f"`# trt-api: {found[0]}`: TensorRT {', '.join(unknown)} is not introspected (known: {', '.join(known)})"
    return [t for t in majors if t in known], None


def claimed_floors(code: str) -> dict[str, tuple[int, int]]:
    """``{major: (major, minor)}``: the oldest release claimed per major (``10`` alone means 10.0)."""
    found = [value for _, value in claim_lines(code)]
    floors: dict[str, tuple[int, int]] = {}
    for token in (re.split(r"[,\s]+", found[0]) if found else []):
        m = re.fullmatch(r"(\d+)(?:\.(\d+))?", token)
        if m:
            floors[m.group(1)] = (int(m.group(1)), int(m.group(2) or 0))
    return floors


def _listed_files(root: Path) -> list[Path]:
    """Tracked and untracked-but-not-ignored files (git), else a plain walk."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root, capture_output=True, check=True,
        ).stdout  # fmt: skip
        return [root / p for p in out.decode().split("\0") if p and (root / p).is_file()]
    except (OSError, subprocess.CalledProcessError):
        return [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts and ".venv" not in p.parts]


def discover(root: Path = REPO_ROOT) -> list[Path]:
    """The default sources: .py under PY_ROOTS, .md under MD_ROOTS."""
    out = []
    for path in _listed_files(root):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(EXCLUDE):
            continue
        top = rel.split("/")[0]
        if (top in PY_ROOTS and path.suffix == ".py") or (top in MD_ROOTS and path.suffix == ".md"):
            out.append(path)
    return sorted(out)


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def units_of(path: Path, root: Path = REPO_ROOT) -> tuple[list[Unit], list[Problem]]:
    shown = _display(path, root)
    if path.suffix == ".md":
        found, errors = md_blocks.extract(path)
        problems = [Problem(shown, line, "tag", msg) for _, line, msg in errors]
        units = [
            Unit(shown, b.line, b.code, continues="context" in b.requires, page=shown)
            for b in found
            if b.lang == "python"
        ]
        return units, problems
    try:
        code = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(shown, 1, "read", f"cannot read: {exc}")]
    problems = []
    if shown.startswith("gallery/"):  # the narrative of a gallery script is reST text on the site
        problems = [Problem(shown, n, "tag", md_blocks.RST_PYTHON_MESSAGE) for n in md_blocks.rst_python_lines(code)]
    return [Unit(shown, 1, code, file=path.resolve())], problems


@dataclasses.dataclass
class Result:
    problems: list[Problem]
    deprecations: list[Problem] = dataclasses.field(default_factory=list)  # informational
    files: int = 0
    units: int = 0
    uses: int = 0  # attribute look-ups resolved against a surface (all versions)


def check_units(units: list[Unit], surfaces: dict[str, Surface], root: Path = REPO_ROOT, first=None,
                seen=None) -> Result:
    """Check ``units``; ``first`` maps names to their first 10.x release (default: the committed record),
    ``seen(name)`` is called with every TensorRT 10 name found outside a guard."""
    if first is None:
        first = first_versions.load()
    trt_keys = [t.key for t in TARGETS if t.module == "tensorrt" and t.key in surfaces]
    extra = {s.module: s for k, s in surfaces.items() if s.module != "tensorrt"}
    problems: list[Problem] = []
    misses: dict[tuple[str, int, str], list[str]] = {}  # (path, line, name) -> version labels
    late: set[tuple[str, int, str, str]] = set()  # (path, line, name, message): newer than the claimed 10.x
    notes: dict[tuple[str, int, str, str], list[str]] = {}
    result = Result(problems, units=len(units))
    project = Project(root.resolve())
    parsed = []
    for unit in units:
        try:
            tree = ast.parse(unit.code)
        except SyntaxError as exc:
            problems.append(Problem(unit.path, unit.line + (exc.lineno or 1) - 1, "syntax", f"not valid Python: {exc.msg}"))
            parsed.append(None)
            continue
        claims, error = parse_claims(unit.code, trt_keys)
        if error:
            where = claim_lines(unit.code)
            line = unit.line + where[0][0] - 1 if where else unit.line
            problems.append(Problem(unit.path, line, "trt-api", error))
        parsed.append((tree, trt_keys if claims is None else claims))

    for key in trt_keys + [None]:
        # One pass per TensorRT version; the last pass (None) covers units that claim no
        # introspected version (legacy examples), for TensorRT-RTX names only.
        surf = dict(extra)
        if key is not None:
            surf["tensorrt"] = surfaces[key]
        env_by_page: dict[str, dict] = {}
        for unit, item in zip(units, parsed):
            if item is None:
                continue
            tree, claims = item
            if (key is None) != (not claims) or (key is not None and key not in claims):
                continue

            def report(node, name, via, surface, unit=unit):
                line = unit.line + getattr(node, "lineno", 1) - 1
                labels = misses.setdefault((unit.path, line, f"{name} ({via})" if via else name), [])
                if surface.label not in labels:
                    labels.append(surface.label)

            def note(node, name, version, surface, unit=unit):
                line = unit.line + getattr(node, "lineno", 1) - 1
                text = f"deprecated in TensorRT {version}" if version else "deprecated"
                labels = notes.setdefault((unit.path, line, name, text), [])
                if surface.label not in labels:
                    labels.append(surface.label)

            floor = claimed_floors(unit.code).get(key, (int(key), 0)) if key is not None else None

            def found(node, name, surface, unit=unit, floor=floor):
                if seen is not None and surface.major == 10:
                    seen(name)
                since = first.get(name)
                if floor is not None and since is not None and since[0] == floor[0] and since > floor:
                    line = unit.line + getattr(node, "lineno", 1) - 1
                    late.add((unit.path, line, name, f"added in TensorRT {since[0]}.{since[1]}, the code claims "
                                                     f"{floor[0]}.{floor[1]} (see `# trt-api:`)"))

            walker = Walker(surf, report, unit.code, note, project=project, path=unit.file, seen=found)
            start = env_by_page.get(unit.page) if unit.continues else None
            env = walker.run(tree, start)
            if unit.page:
                env_by_page[unit.page] = env
            result.uses += walker.uses

    for (path, line, shown), labels in misses.items():
        problems.append(Problem(path, line, shown, "missing in " + ", ".join(labels)))
    problems.extend(Problem(*item) for item in late)
    problems.sort(key=lambda p: (p.path, p.line, p.name))
    for (path, line, name, text), labels in sorted(notes.items()):
        result.deprecations.append(Problem(path, line, name, f"{text} (per {', '.join(labels)})"))
    return result


def check_paths(paths: list[Path] | None = None, root: Path = REPO_ROOT, surfaces=None, first=None, seen=None) -> Result:
    """Check ``paths`` (default: :func:`discover`)."""
    files = discover(root) if paths is None else paths
    units: list[Unit] = []
    problems: list[Problem] = []
    for path in files:
        u, p = units_of(Path(path), root)
        units += u
        problems += p
    result = check_units(units, surfaces if surfaces is not None else load_surfaces(), root, first, seen)
    result.problems[:0] = problems
    result.files = len(files)
    return result
