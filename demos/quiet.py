"""Known, harmless library noise on a machine without a GPU or TensorRT, filtered in one place.

The site build calls :func:`for_gallery` before every gallery script (``conf.py``), so that the
rendered pages show what the code prints and not these lines; a reader who wants the same quiet
terminal calls :func:`install`.  Every entry says why it is harmless here.  Anything not listed still
shows, and so do the warnings that say something about a model (AutoCast's, ModelOpt's Q/DQ notes).
"""

from __future__ import annotations

import logging
import os
import warnings

# logger name -> message prefixes to drop
LOG_NOISE: dict[str, tuple[str, ...]] = {
    # ModelOpt's ONNX quantizer probes ONNX Runtime's GPU providers before it falls back to the CPU one
    # that it then uses: no cuDNN, no TensorRT and no TensorRT execution provider on a CPU machine.
    "modelopt.onnx": ("cuDNN not found in", "Failed to import TensorRT", "Failed to enable ORT with TensorRT EP"),
    # PyTorch's extension builder looks for CUDA when ModelOpt imports it; nothing is compiled here.
    "torch.utils.cpp_extension": ("No CUDA runtime is found",),
}
# (category, message regex) of warnings to drop
WARNING_NOISE: tuple[tuple[type[Warning], str], ...] = (
    # ModelOpt asks ONNX Runtime for the CUDA provider first; the CPU build has none and uses the CPU.
    (UserWarning, r"Specified provider 'CUDAExecutionProvider' is not in available provider names"),
)


class _DropKnown(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]):
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)


def install() -> None:
    """Drop the known lines from now on in this process (idempotent)."""
    for name, prefixes in LOG_NOISE.items():
        logger = logging.getLogger(name)  # the library's own logger, created early if need be
        if not any(isinstance(f, _DropKnown) for f in logger.filters):
            logger.addFilter(_DropKnown(prefixes))
    for category, message in WARNING_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category)


def for_gallery(gallery_conf=None, fname=None) -> None:
    """sphinx-gallery ``reset_modules`` hook: quiet libraries and no progress bars in rendered output."""
    os.environ["TQDM_DISABLE"] = "1"  # read by tqdm when it is imported; callers may still force a bar
    install()
