"""Roofline arithmetic, and ResNet50's work and memory traffic counted from the model itself.

The roofline model says a kernel can run no faster than ``min(peak, intensity * bandwidth)``, where the
arithmetic intensity is the work done per byte moved to and from DRAM. :func:`count_layers` runs one
forward pass on the CPU with hooks on every layer and records what each layer computes and reads and
writes; :func:`traffic` turns that into bytes per image for a given element size and batch size.

Two traffic models are counted:

* ``fused``: what an inference engine such as TensorRT moves when it fuses each convolution with its
  BatchNorm, ReLU and residual add (the add reads the shortcut tensor once more). Each convolution, pooling
  and fully connected layer reads its input and writes its output once, and reads its weights once per batch.
* ``unfused``: every layer (BatchNorm, ReLU and the residual add included) reads its inputs from DRAM and
  writes its output back, as eager framework code does.

Neither counts the L2 cache that can keep a small tensor on chip, nor kernels that fuse several
convolutions (MLPerf's ResNet50 engines do), which move even less; ``fused`` is the floor for
layer-at-a-time execution.
"""

from __future__ import annotations

from dataclasses import dataclass

ELEMENT_BYTES = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8_e4m3": 1, "int8": 1}


@dataclass(frozen=True)
class Layer:
    name: str
    kind: str  # conv, linear, bn, relu, maxpool, avgpool, add
    macs: int  # multiply-accumulates per image (conv and linear only)
    inputs: int  # activation elements read per image
    outputs: int  # activation elements written per image
    params: int  # weight elements, read once per batch

    @property
    def flops(self) -> int:
        return 2 * self.macs


def attainable(peak: float, bandwidth: float, intensity: float) -> float:
    """Roofline bound: ``min(peak, intensity * bandwidth)``.

    Units must agree: peak in TFLOPS with bandwidth in TB/s and intensity in FLOP/byte.
    """
    if peak <= 0 or bandwidth <= 0 or intensity <= 0:
        raise ValueError("peak, bandwidth and intensity must be positive")
    return min(peak, intensity * bandwidth)


def ridge_point(peak: float, bandwidth: float) -> float:
    """The intensity where the memory roof meets the compute roof."""
    return peak / bandwidth


def bound(intensity: float, peak: float, bandwidth: float) -> str:
    return "compute-bound" if intensity >= ridge_point(peak, bandwidth) else "memory-bound"


def count_layers(model=None, image_size: int = 224) -> list[Layer]:
    """Every layer of ``model`` (default: torchvision's ResNet50) with its work and traffic for one image.

    Weights do not matter for counting, so torchvision's model is built with random initialization.
    """
    import torch
    from torch import nn

    if model is None:
        from torchvision.models import resnet50

        model = resnet50(weights=None)
    model.eval()
    layers: list[Layer] = []

    def numel(t) -> int:
        return int(t[0].numel()) if isinstance(t, (tuple, list)) else int(t.numel())

    def hook(name):
        def record(module, args, output):
            x = args[0]
            kind, macs = _kind(module, output)
            params = sum(p.numel() for p in module.parameters(recurse=False))
            layers.append(Layer(name, kind, macs, numel(x), numel(output), int(params)))
            if kind == "block":  # the residual add at the end of a bottleneck block
                layers[-1] = Layer(name + ".add", "add", 0, 2 * numel(output), numel(output), 0)
        return record

    handles = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d, nn.AdaptiveAvgPool2d)):
            handles.append(module.register_forward_hook(hook(name)))
        elif type(module).__name__ in ("Bottleneck", "BasicBlock"):
            handles.append(module.register_forward_hook(hook(name)))
    try:
        with torch.no_grad():
            model(torch.randn(1, 3, image_size, image_size))
    finally:
        for h in handles:
            h.remove()
    return layers


def _kind(module, output) -> tuple[str, int]:
    from torch import nn

    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        return "conv", int(output.numel()) * k
    if isinstance(module, nn.Linear):
        return "linear", int(output.numel()) * module.in_features
    if isinstance(module, nn.BatchNorm2d):
        return "bn", 0
    if isinstance(module, nn.ReLU):
        return "relu", 0
    if isinstance(module, nn.MaxPool2d):
        return "maxpool", 0
    if isinstance(module, nn.AdaptiveAvgPool2d):
        return "avgpool", 0
    return "block", 0


@dataclass(frozen=True)
class Traffic:
    flops: float  # per image
    bytes: float  # per image
    weight_bytes: float  # per image (the batch's single read of the weights, divided by the batch)

    @property
    def intensity(self) -> float:
        return self.flops / self.bytes


def traffic(layers: list[Layer], element_bytes: int, batch: int, model: str = "fused") -> Traffic:
    """FLOPs and DRAM bytes per image when activations and weights are stored with ``element_bytes``."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    if model not in ("fused", "unfused"):
        raise ValueError(f"unknown traffic model {model!r}")
    flops = sum(layer.flops for layer in layers)
    params = sum(layer.params for layer in layers)
    if model == "fused":
        # BatchNorm and ReLU run in the epilogue of the convolution before them; the residual add too,
        # but it still has to read the shortcut tensor (half of what the standalone add reads).
        moved = sum(layer.inputs + layer.outputs for layer in layers
                    if layer.kind in ("conv", "linear", "maxpool", "avgpool"))
        moved += sum(layer.inputs // 2 for layer in layers if layer.kind == "add")
    else:
        moved = sum(layer.inputs + layer.outputs for layer in layers)
    weight_bytes = params * element_bytes / batch
    return Traffic(flops=float(flops), bytes=float(moved * element_bytes + weight_bytes),
                   weight_bytes=float(weight_bytes))


def layer_intensities(layers: list[Layer], element_bytes: int, batch: int) -> list[tuple[str, float, float]]:
    """(name, FLOPs per image, intensity) of every convolution and linear layer under the fused model."""
    out = []
    for layer in layers:
        if layer.kind in ("conv", "linear"):
            moved = (layer.inputs + layer.outputs) * element_bytes + layer.params * element_bytes / batch
            out.append((layer.name, float(layer.flops), layer.flops / moved))
    return out
