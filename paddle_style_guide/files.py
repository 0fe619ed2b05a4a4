"""Finding Markdown files and reading them safely.

Everything that can go wrong with a file (not UTF-8, binary, a symbolic link
loop, no permission, not a regular file) becomes a :class:`ReadError` with a
one-line reason that says what to do; nothing here raises anything else for
a bad file.
"""

from __future__ import annotations

import codecs
import errno
import fnmatch
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

MARKDOWN_SUFFIXES = (".md",)
MAX_BYTES = 32 * 1024 * 1024


class ReadError(Exception):
    """A file that cannot be checked; ``line`` is where the trouble is."""

    def __init__(self, reason: str, line: int = 1):
        super().__init__(reason)
        self.reason = reason
        self.line = line


class UsageError(Exception):
    """A command-line mistake (exit status 2)."""


@dataclass(frozen=True, slots=True)
class Walked:
    """Result of :func:`discover`: files to check, and what went wrong on the way."""

    files: list[str]  # absolute, normalised, not resolved (symlinks kept)
    problems: list[tuple[str, str]]  # (path, reason)


def read_text(path: str) -> str:
    """Read a Markdown file as UTF-8 text (a UTF-8 BOM is allowed)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise ReadError(
                f"broken symbolic link (points to {os.readlink(path)!r}); fix or remove it"
            ) from None
        raise ReadError("no such file") from None
    except OSError as exc:
        raise ReadError(_os_reason(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise ReadError("is a directory, not a Markdown file")
    if not stat.S_ISREG(st.st_mode):
        raise ReadError("not a regular file (a FIFO, socket or device); remove it")
    if st.st_size > MAX_BYTES:
        raise ReadError(f"file is larger than {MAX_BYTES // 2**20} MiB; not checked")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ReadError(_os_reason(exc)) from None
    return decode(data)


def decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReadError("file is UTF-16 encoded; save it as UTF-8")
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ReadError("binary file (contains NUL bytes), not Markdown text", line)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        hint = "save it as UTF-8"
        try:
            data.decode("gb18030")
            hint = "it looks GBK/GB18030-encoded: convert it with `iconv -f GB18030 -t UTF-8`"
        except UnicodeDecodeError:
            pass
        raise ReadError(f"not valid UTF-8 (byte 0x{bad} on line {line}); {hint}", line) from None


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop; fix the link"
    if exc.errno == errno.EACCES or isinstance(exc, PermissionError):
        return "permission denied: the file is not readable"
    if exc.errno == errno.ENAMETOOLONG:
        return "path too long (a symbolic link loop?)"
    return f"cannot read: {exc.strerror or exc}"


def discover(paths: Iterable[str], exclude: Iterable[str] = ()) -> Walked:
    """Expand PATH arguments: files are taken as given (whatever their suffix),
    directories are searched for ``*.md``, following symbolic links but never
    entering a directory twice. Hidden directories are skipped."""
    exclude = list(exclude)
    files: list[str] = []
    problems: list[tuple[str, str]] = []
    seen_files: set[tuple[int, int]] = set()
    seen_dirs: set[tuple[int, int]] = set()

    def add_file(path: str, key: tuple[int, int] | None = None) -> None:
        """``key``: (device, inode) when the caller knows it (a file that is no symbolic link)."""
        if key is None:
            try:
                st = os.stat(path)
                key = (st.st_dev, st.st_ino)
            except OSError:
                files.append(path)  # read_text reports it
                return
        if key in seen_files:
            return
        seen_files.add(key)
        files.append(path)

    for arg in paths:
        path = os.path.abspath(arg)
        if not os.path.lexists(path):
            raise UsageError(f"no such file or directory: {arg}")
        if os.path.isdir(path):
            _walk(path, path, exclude, add_file, problems, seen_dirs, frozenset())
        else:
            add_file(path)
    return Walked(files, problems)


def _excluded(rel: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(os.path.basename(rel), p) for p in patterns)


def _walk(top, directory, exclude, add_file, problems, seen_dirs, ancestors) -> None:
    try:
        st = os.stat(directory)
    except OSError as exc:
        problems.append((directory, _os_reason(exc)))
        return
    key = (st.st_dev, st.st_ino)
    if key in ancestors:
        problems.append(
            (directory, "symbolic link loop (points to a directory above it); skipped")
        )
        return
    if key in seen_dirs:
        return  # reached twice through symbolic links: checked once
    seen_dirs.add(key)
    ancestors = ancestors | {key}
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        problems.append((directory, _os_reason(exc)))
        return
    for entry in entries:
        if exclude and _excluded(os.path.relpath(entry.path, top), exclude):
            continue
        try:
            is_dir = entry.is_dir()  # follows symbolic links
        except OSError:
            is_dir = False
        if is_dir:
            if not entry.name.startswith("."):
                _walk(top, entry.path, exclude, add_file, problems, seen_dirs, ancestors)
        elif entry.name.endswith(MARKDOWN_SUFFIXES):
            # a file that is no symbolic link is on its folder's device, and scandir knows its inode:
            # no stat call (10,000 of them on a large site)
            try:
                key = None if entry.is_symlink() else (st.st_dev, entry.inode())
            except OSError:
                key = None
            add_file(entry.path, key)  # includes broken links and loops: reported on read
