"""Known, harmless library noise on a machine without a GPU or TensorRT, handled in one place.

The site build calls :func:`for_gallery` before every gallery script (``conf.py``), so that the
rendered pages show what the code prints and not these lines; a reader who wants the same quiet
terminal calls :func:`install`, and the demo's stages use :func:`notes`.  Every entry says why it is
harmless here.  Anything not listed still shows, and so do the warnings that say something about a model
(AutoCast's, ModelOpt's Q/DQ notes).

Three kinds of noise:

* log lines that say nothing here (:data:`LOG_NOISE`): dropped;
* a log line that looks alarming but is expected here (:data:`LOG_NOTES`): replaced by a one-line note, shown
  once (per gallery page, per stage run of the demo);
* lines a library writes with ``print``, which no logging filter sees (:data:`PRINT_NOISE`): dropped by a
  ``print`` in that module's namespace, set when the module is imported.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import re
import sys
import warnings

# logger name -> message prefixes to drop
LOG_NOISE: dict[str, tuple[str, ...]] = {
    # ModelOpt's ONNX quantizer probes ONNX Runtime's GPU providers before it falls back to the CPU one
    # that it then uses: no cuDNN, no TensorRT and no TensorRT execution provider on a CPU machine.
    "modelopt.onnx": ("cuDNN not found in", "Failed to import TensorRT", "Failed to enable ORT with TensorRT EP"),
    # PyTorch's extension builder looks for CUDA when ModelOpt imports it; nothing is compiled here.
    "torch.utils.cpp_extension": ("No CUDA runtime is found",),
}
# logger name -> {message prefix: the note shown instead, once}
LOG_NOTES: dict[str, dict[str, str]] = {
    # ModelOpt (0.47) counts GPUs through NVML before it calibrates; without an NVIDIA driver that fails, it
    # logs an ERROR with a timestamp, and calibrates with ONNX Runtime on the CPU.
    "modelopt.onnx": {
        "Failed to get GPU count": "note: ModelOpt found no NVIDIA driver (NVML) and calibrated on the CPU",
    },
}
# module -> regular expressions of whole lines it prints that say nothing here
PRINT_NOISE: dict[str, tuple[str, ...]] = {
    # mtq.quantize prints how many TensorQuantizer modules it inserted (input, weight and output quantizers,
    # enabled or not, so not a count of quantized layers) with print().
    "modelopt.torch.quantization.conversion": (r"Inserted \d+ quantizers",),
}
# (category, message regex) of warnings to drop
WARNING_NOISE: tuple[tuple[type[Warning], str], ...] = (
    # ModelOpt asks ONNX Runtime for the CUDA provider first; the CPU build has none and uses the CPU.
    (UserWarning, r"Specified provider 'CUDAExecutionProvider' is not in available provider names"),
)

_SHOWN_NOTES: set[str] = set()  # the notes shown since the last reset_notes()


class _DropKnown(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]):
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)


class _NoteInstead(logging.Filter):
    """Drops the known lines of one logger and prints each one's note the first time."""

    def __init__(self, notes: dict[str, str]):
        super().__init__()
        self.notes = notes

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for prefix, note in self.notes.items():
            if message.startswith(prefix):
                if note not in _SHOWN_NOTES:
                    _SHOWN_NOTES.add(note)
                    print(note)
                return False
        return True


def reset_notes() -> None:
    """Show every note again the next time its line comes (a new page, a new stage run)."""
    _SHOWN_NOTES.clear()


def _quiet_print(patterns: tuple[str, ...]):
    """A ``print`` for one module's namespace that drops the lines matching ``patterns``."""
    known = re.compile("|".join(f"(?:{p})" for p in patterns))

    def print(*args, **kwargs):  # noqa: A001 - shadows the builtin in that module only
        text = kwargs.get("sep", " ").join(map(str, args))
        if kwargs.get("file") is None and known.fullmatch(text.strip()):
            return
        builtins.print(*args, **kwargs)

    print.quiet_patterns = patterns
    return print


class _QuietPrintsOnImport(importlib.abc.MetaPathFinder):
    """Sets the quiet ``print`` of :data:`PRINT_NOISE` in a module when it is imported (not before: importing
    ModelOpt's torch modules takes seconds and pages that never use them should not pay for it)."""

    def find_spec(self, name, path, target=None):
        if name not in PRINT_NOISE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_quiet(module):
            module.print = _quiet_print(PRINT_NOISE[name])  # module globals shadow builtins.print
            exec_module(module)

        spec.loader.exec_module = exec_then_quiet
        return spec


def _quiet_prints() -> None:
    for name, patterns in PRINT_NOISE.items():
        module = sys.modules.get(name)
        if module is not None and getattr(getattr(module, "print", None), "quiet_patterns", None) is None:
            module.print = _quiet_print(patterns)
    if not any(isinstance(f, _QuietPrintsOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietPrintsOnImport())


@contextlib.contextmanager
def notes():
    """The notes of :data:`LOG_NOTES` instead of their lines while the block runs (what a demo stage uses:
    the user's logging stays as it was afterwards). Inside :func:`install` it changes nothing."""
    added = []
    for name, table in LOG_NOTES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoteInstead) for f in logger.filters):
            note_filter = _NoteInstead(table)
            logger.addFilter(note_filter)
            added.append((logger, note_filter))
    try:
        yield
    finally:
        for logger, note_filter in added:
            logger.removeFilter(note_filter)


def install() -> None:
    """Drop the known lines, and show the notes instead of theirs, from now on in this process (idempotent)."""
    for name, prefixes in LOG_NOISE.items():
        logger = logging.getLogger(name)  # the library's own logger, created early if need be
        if not any(isinstance(f, _DropKnown) for f in logger.filters):
            logger.addFilter(_DropKnown(prefixes))
    for name, table in LOG_NOTES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoteInstead) for f in logger.filters):
            logger.addFilter(_NoteInstead(table))
    for category, message in WARNING_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category)
    _quiet_prints()


def for_gallery(gallery_conf=None, fname=None) -> None:
    """sphinx-gallery ``reset_modules`` hook: quiet libraries and no progress bars in rendered output;
    each page shows each note once."""
    os.environ["TQDM_DISABLE"] = "1"  # read by tqdm when it is imported; callers may still force a bar
    install()
    reset_notes()
