"""Command line: ``python -m paddle_style_guide.trt_api {check,install,lookup,migration,first-versions}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .bindings import TARGETS, BindingsError, cache_dir, ensure_surface, load_surfaces


def _check(args) -> int:
    from .check import check_paths

    paths = None
    if args.paths:
        paths = []
        for p in args.paths:
            path = Path(p)
            if not path.exists():
                print(f"error: {p}: no such file or directory", file=sys.stderr)
                return 2
            if path.is_dir():
                paths += sorted(q for q in path.rglob("*") if q.suffix in (".py", ".md") and q.is_file())
            elif path.suffix not in (".py", ".md"):
                print(f"error: {p}: expected a .py file, a .md file or a directory", file=sys.stderr)
                return 2
            else:
                paths.append(path)
    result = check_paths(paths)
    for problem in result.problems:
        print(problem)
    if args.deprecated:
        for note in result.deprecations:
            print(f"note: {note}")
    versions = ", ".join(t.label for t in TARGETS)
    status = f"{len(result.problems)} problem(s)" if result.problems else "all TensorRT names found"
    print(
        f"trt_api: {status}; {result.files} file(s), {result.units} Python source(s), "
        f"{result.uses} TensorRT look-ups checked against {versions}",
        file=sys.stderr,
    )
    return 1 if result.problems else 0


def _install(args) -> int:
    for target in TARGETS:
        path, surface = ensure_surface(target)
        print(f"{target.label:28} {len(surface['objects']):4d} objects  {path}")
    print(f"cache: {cache_dir()}", file=sys.stderr)
    return 0


def _lookup(args) -> int:
    surfaces = load_surfaces()
    missing = False
    for name in args.names:
        row = []
        for key, surface in surfaces.items():
            if name.split(".")[0] != surface.module:
                continue
            found = surface.resolve(name)
            row.append(f"{surface.label}: {found[0] if found else 'absent'}")
            missing |= found is None
        if not row:
            print(f"error: {name}: start with tensorrt. or tensorrt_rtx.", file=sys.stderr)
            return 2
        print(f"{name}: " + "; ".join(row))
    return 1 if missing and args.strict else 0


def _migration(args) -> int:
    from . import migration

    rows = migration.load()
    if args.markdown:
        sys.stdout.write(migration.render_markdown(rows))
        return 0
    if args.write:
        try:
            changed = migration.write_page(args.write, rows)
        except (OSError, migration.MigrationDataError) as exc:
            print(f"error: {args.write}: {exc}", file=sys.stderr)
            return 2
        print(f"{args.write}: {'table updated; now run update-po and translate the changed cells' if changed else 'up to date'}")
        return 0
    problems = migration.verify(rows, load_surfaces())
    for problem in problems:
        print(problem)
    print(f"migration table: {len(rows)} rows, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def _first_versions(args) -> int:
    from . import first_versions

    used = first_versions.used_names()
    recorded = first_versions.load()
    if args.source is None:
        missing = sorted(used - set(recorded))
        for name in missing:
            print(f"not recorded: {name}")
        late = sorted((v, n) for n, v in recorded.items() if v > (10, 0))
        for (major, minor), name in late:
            print(f"{name}: TensorRT {major}.{minor}")
        print(f"first versions: {len(recorded)} recorded, {len(late)} after 10.0, {len(missing)} used names not recorded"
              + ("; regenerate with --source PATH/TO/TensorRT/.git --write" if missing else ""), file=sys.stderr)
        return 1 if missing else 0
    source = Path(args.source)
    if not (source / "HEAD").is_file():
        print(f"error: {source} is not a git directory (give the .git folder of a NVIDIA/TensorRT clone)", file=sys.stderr)
        return 2
    found, unknown, tags = first_versions.compute(source, used)
    for name in unknown:
        print(f"in no 10.x release source: {name}")
    text = first_versions.render(found, source, tags)
    if args.write:
        from .bindings import _write_atomic

        _write_atomic(first_versions.RECORD, text)
        print(f"{first_versions.RECORD}: {len(found)} names from {len(tags)} tags", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paddle_style_guide.trt_api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="check TensorRT names in demos/, gallery/, tools/ and Markdown code blocks")
    p.add_argument("paths", nargs="*", help="files or directories (default: the whole repository)")
    p.add_argument("--deprecated", action="store_true", help="also list uses of deprecated names (never fails)")
    p.set_defaults(func=_check)
    p = sub.add_parser("install", help="download the pinned binding wheels and introspect them (cached)")
    p.set_defaults(func=_install)
    p = sub.add_parser("lookup", help="show whether dotted names exist in each introspected version")
    p.add_argument("names", nargs="+", metavar="NAME", help="e.g. tensorrt.BuilderFlag.FP16")
    p.add_argument("--strict", action="store_true", help="exit 1 if a name is absent anywhere")
    p.set_defaults(func=_lookup)
    p = sub.add_parser("migration", help="verify the migration table (default) or print it as MyST Markdown")
    p.add_argument("--markdown", action="store_true", help="print the table as MyST Markdown")
    p.add_argument("--write", metavar="PAGE", type=Path,
                   help="regenerate the table between the BEGIN/END comment lines of PAGE (docs/migration.md)")
    p.set_defaults(func=_migration)
    p = sub.add_parser("first-versions", help="the first 10.x release of each TensorRT name the repository uses")
    p.add_argument("--source", help="the .git folder of a NVIDIA/TensorRT clone with its release tags (to regenerate)")
    p.add_argument("--write", action="store_true", help="write the record (paddle_style_guide/trt_api/first_versions.toml)")
    p.set_defaults(func=_first_versions)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BindingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
