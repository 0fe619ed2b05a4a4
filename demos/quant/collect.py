"""Collect activation histograms from a PyTorch model with forward hooks, batch by batch.

>>> from demos.quant.collect import collect_activations                       # doctest: +SKIP
>>> stats = collect_activations(model, loader, module_types=(torch.nn.Conv2d,))  # doctest: +SKIP
>>> {name: calibrate(c, "entropy") for name, c in stats.items()}              # doctest: +SKIP

Each selected module gets one :class:`~demos.quant.histogram.HistogramCollector` that sees every batch as
it passes (its exact max is ``collector.amax``), so memory stays at ``num_bins`` counts per layer whatever
the number of calibration images. By default the *input* of each module is collected: that is the tensor
a Q/DQ pair in front of a convolution or matrix multiply quantizes in TensorRT's explicit quantization.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ._arrays import QuantInputError
from .histogram import HistogramCollector


def _select_modules(model, modules: Sequence[str] | None, module_types) -> dict[str, Any]:
    import torch

    named = dict(model.named_modules())
    if modules is not None:
        if isinstance(modules, str):
            modules = [modules]
        unknown = [m for m in modules if m not in named]
        if unknown:
            examples = ", ".join(n for n in list(named)[1:6])
            raise QuantInputError(
                f"module name(s) {unknown[:3]} not found in the model; use names from "
                f"model.named_modules(), e.g. {examples}"
            )
        chosen = {m: named[m] for m in modules}
    else:
        types = module_types if module_types is not None else (torch.nn.Conv2d, torch.nn.Linear)
        if isinstance(types, type):
            types = (types,)
        if not all(isinstance(t, type) for t in types):
            raise QuantInputError(f"module_types must be module classes such as torch.nn.Conv2d, got {types!r}")
        chosen = {n: m for n, m in named.items() if n and isinstance(m, tuple(types))}
    if not chosen:
        raise QuantInputError(
            "no module of the model matches; pass module names (model.named_modules()) or other module_types"
        )
    return chosen


def _first_tensor(value, torch):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], torch.Tensor):
        return value[0]
    return None


def collect_activations(
    model,
    batches: Iterable,
    modules: Sequence[str] | None = None,
    module_types=None,
    where: str = "input",
    num_bins: int = 2048,
    max_batches: int | None = None,
    progress=None,
) -> dict[str, HistogramCollector]:
    """Run ``model`` on ``batches`` and return ``{module name: HistogramCollector}``.

    Args:
        model: a ``torch.nn.Module``; it runs in eval mode under ``torch.inference_mode()`` and its
            training flag is restored afterwards.
        batches: an iterable of input tensors (or NumPy arrays), or of ``(inputs, labels)`` pairs as a
            ``DataLoader`` yields; inputs are moved to the model's device.
        modules: names from ``model.named_modules()`` to observe; if None, every module that is an
            instance of ``module_types`` (default: ``Conv2d`` and ``Linear``).
        where: ``"input"`` (first positional input of the module) or ``"output"``.
        num_bins: bins per histogram (a power of two).
        max_batches: stop after this many batches.
        progress: optional callable that wraps the batch iterable (e.g. ``tqdm.tqdm``).
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise QuantInputError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if where not in ("input", "output"):
        raise QuantInputError(f"where must be 'input' or 'output', got {where!r}")
    chosen = _select_modules(model, modules, module_types)
    collectors = {name: HistogramCollector(num_bins) for name in chosen}

    def make_hook(name):
        def hook(module, args, output=None):
            t = _first_tensor(args if where == "input" else output, torch)
            if t is None:
                raise QuantInputError(f"module {name!r} has no tensor {where} to collect; choose another module")
            try:
                collectors[name].update(t)
            except QuantInputError as exc:
                raise QuantInputError(f"{where} of module {name!r}: {exc}") from None
        return hook

    handles = []
    for name, module in chosen.items():
        if where == "input":
            handles.append(module.register_forward_pre_hook(make_hook(name)))
        else:
            handles.append(module.register_forward_hook(make_hook(name)))

    params = list(model.parameters())
    device = params[0].device if params else torch.device("cpu")
    was_training = model.training
    seen = 0
    try:
        model.eval()
        iterable = progress(batches) if progress is not None else batches
        with torch.inference_mode():
            for batch in iterable:
                if max_batches is not None and seen >= max_batches:
                    break
                inputs = batch[0] if isinstance(batch, (tuple, list)) else batch
                if isinstance(inputs, np.ndarray):
                    inputs = torch.from_numpy(inputs)
                if not isinstance(inputs, torch.Tensor):
                    raise QuantInputError(
                        f"each batch must be a tensor or an (inputs, labels) pair, got {type(inputs).__name__}"
                    )
                model(inputs.to(device))
                seen += 1
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if seen == 0:
        raise QuantInputError("batches is empty; pass at least one batch of calibration inputs")
    silent = [n for n, c in collectors.items() if c.num_batches == 0]
    if silent:
        raise QuantInputError(
            f"{len(silent)} selected module(s) never ran in forward (first: {silent[0]!r}); leave them out of modules="
        )
    return collectors
