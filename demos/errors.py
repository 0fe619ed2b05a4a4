"""The one exception type that the CLIs turn into a one-line message and a non-zero exit."""


class UserError(Exception):
    """A mistake the user can fix (bad path, wrong file, missing runtime).

    The message is one line that says what is wrong and what to do. The CLI prints it as
    ``error: <message>`` and exits with status 2; it never shows a traceback for it.
    """

    exit_code = 2


class MissingRuntime(UserError):
    """A stage needs TensorRT, a GPU or another runtime that this machine does not have."""

    exit_code = 3


def run_cli(action, *args, interrupted: str = "interrupted (no partial files were kept)") -> int:
    """Run ``action(*args)`` for a command line tool: a :class:`UserError` becomes ``error: <message>`` on
    stderr and its exit code, Ctrl-C becomes exit code 130; anything else is a bug and keeps its traceback."""
    import sys

    try:
        action(*args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"error: {interrupted}", file=sys.stderr)
        return 130
    return 0
