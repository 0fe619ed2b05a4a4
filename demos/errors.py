"""The one exception type that the CLIs turn into a one-line message and a non-zero exit."""

from __future__ import annotations

import contextlib
import errno
import signal
import threading


class UserError(Exception):
    """A mistake the user can fix (bad path, wrong file, missing runtime).

    The message is one line that says what is wrong and what to do. The CLI prints it as
    ``error: <message>`` and exits with status 2; it never shows a traceback for it.
    """

    exit_code = 2


class MissingRuntime(UserError):
    """A stage needs TensorRT, a GPU or another runtime that this machine does not have."""

    exit_code = 3


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a CI timeout): unwinds like Ctrl-C, so temporary files are removed the same way."""


# Errors of the file system that the user fixes (space, permissions), not bugs of the tool.
_USER_OS_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES}


@contextlib.contextmanager
def terminate_as_interrupt():
    """Within the block, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) instead of killing the process
    at once, so every ``finally`` runs: no temporary file stays behind. Only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def run_cli(action, *args, interrupted: str = "interrupted (no partial files were kept)") -> int:
    """Run ``action(*args)`` for a command line tool: a :class:`UserError` becomes ``error: <message>`` on
    stderr and its exit code; Ctrl-C becomes exit code 130 and SIGTERM 143, after the same clean-up; a full
    disk or a read-only folder is one line too. Anything else is a bug and keeps its traceback."""
    import sys

    try:
        with terminate_as_interrupt():
            action(*args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Terminated:
        print(f"error: terminated by SIGTERM; {interrupted.removeprefix('interrupted ').strip('()')}", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(f"error: {interrupted}", file=sys.stderr)
        return 130
    except OSError as exc:
        if exc.errno not in _USER_OS_ERRORS:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot write{where}: {exc.strerror}; free space or choose a writable folder and rerun",
              file=sys.stderr)
        return 2
    return 0
