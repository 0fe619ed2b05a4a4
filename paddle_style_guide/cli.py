"""``python -m paddle_style_guide check [PATH...] [--rules github|sphinx] ...``

Exit status: 0 when every link resolves, 1 when something is broken (or a
file cannot be read), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Sequence

from . import __version__
from .checker import ERROR, RULE_SETS, SLUG_STYLES, SWITCHES, Checker, Options, Problem, Result
from .config import CONFIG_TABLE, Settings, load_settings
from .config import DEFAULT_EXTERNAL_CACHE as DEFAULT_CACHE
from .files import UsageError
from .markdown_scan import quiet_markdown_it

PROG = "python -m paddle_style_guide"

POLICIES = f"""\
link policies:
  github rules (default): links resolve as on GitHub. A target file must exist;
    a #fragment must be a heading slug (MyST's or GitHub's), a raw HTML anchor
    (<a name>, id="..."), an {{#id}} attribute or a MyST (label)= target.
    Links to page.html and to page (no suffix) are accepted when page.md exists
    (report them with --enable html-link); a folder link is accepted and its
    fragment is checked against its index.md or README.md; a slash after a
    file name (page.md/) is reported; "/path" starts at --root (default: the
    nearest folder holding conf.py, else the repository root).
  sphinx rules (--rules sphinx): links resolve exactly as the Sphinx + MyST build
    with paddle_style_guide.sphinx_ext resolves them, with the settings of
    conf.py (myst_heading_anchors, include/exclude_patterns, ...). An error is
    a link that is dead in the built site: .html links to sources, links to
    folders, page#fragment without a suffix, fragments that are no id of the
    target page, raw HTML links to .md files, raw HTML images (never copied).
    A warning is a link that works although the build warns about it (a -W
    build fails on it). "/path" starts at the folder of conf.py.
  both: hidden folders (.name) are not searched for pages, but links into
    them are checked; an empty target [text]() is reported (--disable
    empty-target); http(s) links are requested only with --external;
    mailto: and other URL schemes are not checked (with the sphinx rules, a
    scheme missing from myst_url_schemes is a dead link); --ignore REGEX
    skips links whose target matches.

rules that can be switched (--enable/--disable NAME):
{chr(10).join(textwrap.fill(what, 78, initial_indent=f"  {name:15s} {'on ' if on else 'off'}: ",
                            subsequent_indent=" " * 22) for name, (on, what) in SWITCHES.items())}

configuration: a [{CONFIG_TABLE}] table in the nearest pyproject.toml (from
the working directory up to the repository root) sets the same options:
rules, conf, root, paths, exclude, ignore, enable, disable, slugs,
myst-heading-anchors, exact. Options on the command line win; lists add up.

output: one line per problem, "file:line:column: severity: target: reason",
paths relative to the working directory; then a summary line. All on
standard output; standard error only for usage errors.
"""


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


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[1])
    parser.add_argument("--version", action="version", version=f"paddle_style_guide {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = sub.add_parser(
        "check",
        help="check links and anchors in Markdown files",
        description="Check every link of the given Markdown files (directories: "
        "every *.md below them, hidden folders skipped).",
        epilog=POLICIES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="Markdown file or directory (default: 'paths' of the configuration)")
    check.add_argument("--rules", choices=RULE_SETS, default=None,
                       help="resolve links as GitHub does (default) or as the Sphinx build does")
    check.add_argument("--conf", metavar="FILE",
                       help="sphinx rules: the Sphinx conf.py (default: the nearest one in or "
                       "above the first PATH)")
    check.add_argument("--root", metavar="DIR",
                       help="folder that '/path' links start from (default: the nearest folder "
                       "holding conf.py, else the repository root; never the working directory)")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text: one 'file:line:column: severity: target: reason' line per "
                       "problem and a summary; json: a list of {file, line, column, severity, "
                       "target, reason} objects")
    check.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                       help="skip links whose target matches REGEX (repeatable)")
    check.add_argument("--enable", action="append", default=[], type=_names, metavar="RULE",
                       help=f"turn on a switchable rule ({', '.join(SWITCHES)})")
    check.add_argument("--disable", action="append", default=[], type=_names, metavar="RULE",
                       help="turn off a switchable rule")
    check.add_argument("--config", metavar="PYPROJECT",
                       help=f"read [{CONFIG_TABLE}] from this pyproject.toml (default: the nearest)")
    check.add_argument("--no-config", action="store_true", help="read no pyproject.toml")
    check.add_argument("--external", action="store_true",
                       help="also request http(s) links (cached; see --cache)")
    check.add_argument("--slugs", choices=SLUG_STYLES, default=None,
                       help="github rules: which heading slugs count as anchors (default: both)")
    check.add_argument("--myst-heading-anchors", type=_positive_int, default=None, metavar="N",
                       help="heading depth that gets MyST slugs (default: conf.py's "
                       "myst_heading_anchors with --rules sphinx, else 3)")
    check.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                       help="skip files and directories matching GLOB while walking")
    check.add_argument("--exact", action="store_true", default=None,
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
    check.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 on a usage error
    try:
        settings = _settings(args)
        if settings.root and not os.path.isdir(settings.root):
            raise UsageError(f"--root: not a directory: {settings.root}")
        if not settings.paths:
            raise UsageError("the following arguments are required: PATH (or 'paths' in "
                             f"[{CONFIG_TABLE}] of pyproject.toml)")
        quiet_markdown_it()
        options = Options(
            rules=settings.rules,
            slugs=settings.slugs,
            myst_heading_anchors=settings.myst_heading_anchors,
            root=settings.root,
            conf=settings.conf,
            exclude=tuple(settings.exclude),
            ignore=tuple(settings.ignore),
            enable=frozenset(settings.enable),
            disable=frozenset(settings.disable),
            jobs=args.jobs,
            exact=settings.exact,
        )
        result = Checker(options).check_paths(settings.paths)
    except UsageError as exc:
        parser.error(str(exc))
    if args.external and result.external:
        result.notes += _check_external(result, args)
    _print(result, args)
    return 1 if result.problems else 0


def _settings(args) -> Settings:
    """Command line over the pyproject.toml table over the defaults."""
    settings = Settings() if args.no_config else load_settings(args.config)
    enable = [n for group in args.enable for n in group]
    disable = [n for group in args.disable for n in group]
    return settings.merged(
        paths=args.paths or None,
        rules=args.rules,
        conf=args.conf,
        root=args.root,
        slugs=args.slugs,
        myst_heading_anchors=args.myst_heading_anchors,
        exact=args.exact,
        exclude=args.exclude,
        ignore=args.ignore,
        enable=enable,
        disable=disable,
    )


def _check_external(result: Result, args) -> list[str]:
    from .external import ExternalChecker  # http.client and ssl: only for --external

    checker = ExternalChecker(
        timeout=args.timeout,
        max_connections=args.max_connections or 1,
        cache_path=args.cache or None,
    )
    statuses = checker.check(e.url for e in result.external)
    for link in result.external:
        status = statuses[link.url]
        if status.ok is False:
            result.problems.append(Problem(link.file, link.line, 1, ERROR, link.url, status.reason))
    result.problems.sort()
    return checker.notes


def _summary(result: Result, args) -> str:
    parts = [f"checked {result.files} file(s), {result.links} link(s)"]
    if result.ignored:
        parts.append(f"{result.ignored} ignored")
    if args.external:
        parts.append(f"{len({e.url for e in result.external})} external URL(s)")
    return (", ".join(parts) + f": {result.errors} error(s), {result.warnings} warning(s)")


def _print(result: Result, args) -> None:
    try:
        if args.format == "json":
            json.dump([p.as_dict() for p in result.problems], sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            for problem in result.problems:
                print(problem)
            if not args.quiet:
                for note in result.notes:
                    print(f"note: {note}")
                print(_summary(result, args))
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
