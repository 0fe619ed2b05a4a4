"""``python -m paddle_style_guide check PATH... [--format text|json] [--external]``

Exit status: 0 when every link resolves, 1 when something is broken (or a
file cannot be read), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from . import __version__
from .checker import SLUG_STYLES, Checker, Options, Problem, Result
from .external import DEFAULT_CACHE, ExternalChecker
from .files import UsageError
from .markdown_scan import quiet_markdown_it

PROG = "python -m paddle_style_guide"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[1])
    parser.add_argument("--version", action="version", version=f"paddle_style_guide {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = sub.add_parser(
        "check",
        help="check links and anchors in Markdown files",
        description="Check every link of the given Markdown files (directories: "
        "every *.md below them): target files must exist and #fragments must "
        "name a heading slug (MyST or GitHub), a raw HTML anchor (<a name>, "
        "id=\"...\") or a MyST (label)= target of the target page.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="Markdown file or directory")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text: one 'file:line: target: reason' line per problem; "
                       "json: a list of {file, line, target, reason} objects")
    check.add_argument("--external", action="store_true",
                       help="also request http(s) links (cached; see --cache)")
    check.add_argument("--slugs", choices=SLUG_STYLES, default="both",
                       help="which heading slugs count as anchors (default: both)")
    check.add_argument("--myst-heading-anchors", type=_positive_int, default=3, metavar="N",
                       help="heading depth that gets MyST slugs, as conf.py's "
                       "myst_heading_anchors (default: 3)")
    check.add_argument("--root", metavar="DIR",
                       help="directory that '/path' links start from (default: .)")
    check.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                       help="skip files and directories matching GLOB while walking")
    check.add_argument("--exact", action="store_true",
                       help="read block structure with markdown-it-py, exactly as MyST does "
                       "(several times slower; the default scanner is tested against it)")
    check.add_argument("--jobs", type=_positive_int, default=0, metavar="N",
                       help="worker processes for reading pages (default: one per CPU)")
    check.add_argument("--timeout", type=_positive_float, default=10.0, metavar="SECONDS",
                       help="--external: time limit per request (default: 10)")
    check.add_argument("--max-connections", type=_positive_int, default=8, metavar="N",
                       help="--external: requests in flight at once (default: 8)")
    check.add_argument("--cache", default=DEFAULT_CACHE, metavar="FILE",
                       help=f"--external: JSON cache of working links (default: {DEFAULT_CACHE}); "
                       "'' for none")
    check.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 on a usage error
    if args.root and not os.path.isdir(args.root):
        parser.error(f"--root: not a directory: {args.root}")
    quiet_markdown_it()
    options = Options(
        slugs=args.slugs,
        myst_heading_anchors=args.myst_heading_anchors,
        root=args.root,
        exclude=tuple(args.exclude),
        jobs=args.jobs,
        exact=args.exact,
    )
    try:
        result = Checker(options).check_paths(args.paths)
    except UsageError as exc:
        parser.error(str(exc))
    notes: list[str] = []
    if args.external and result.external:
        notes += _check_external(result, args)
    _print(result, args.format)
    if not args.quiet:
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        broken = len(result.problems)
        print(
            f"checked {result.files} file(s), {result.links} link(s)"
            + (f", {len({e.url for e in result.external})} external URL(s)" if args.external else "")
            + f": {broken} problem(s)",
            file=sys.stderr,
        )
    return 1 if result.problems else 0


def _check_external(result: Result, args) -> list[str]:
    checker = ExternalChecker(
        timeout=args.timeout,
        max_connections=args.max_connections or 1,
        cache_path=args.cache or None,
    )
    statuses = checker.check(e.url for e in result.external)
    for link in result.external:
        status = statuses[link.url]
        if status.ok is False:
            result.problems.append(Problem(link.file, link.line, link.url, status.reason))
    result.problems.sort()
    return checker.notes


def _print(result: Result, fmt: str) -> None:
    try:
        if fmt == "json":
            json.dump([p.as_dict() for p in result.problems], sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            for problem in result.problems:
                print(problem)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
