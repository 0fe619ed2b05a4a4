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
