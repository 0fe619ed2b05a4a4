"""
Fake quantization and the straight-through estimator
====================================================

Quantization-aware training (QAT) trains a network *through* its quantizers so that the weights adapt to
the rounding. The quantizers are *fake*: they quantize and immediately dequantize, so the tensors stay
floating point and the usual training machinery works, but every value is snapped to the INT8 grid.

Rounding has a derivative of zero almost everywhere, so plain backpropagation through a fake quantizer
would stop all learning. The *straight-through estimator* (STE) replaces that derivative by 1, as if the
quantizer were the identity; a common variant passes the gradient only inside the range [-amax, amax] and
blocks it where the value was clipped. This page builds the clipped variant in a few lines of PyTorch,
checks it against ``demos.quant`` and against PyTorch's own fake quantization, and shows on a tiny model
what the STE does to the gradients.

Data: synthetic (a fixed random seed); no pretrained model is involved on this page.
"""

# %%
# A fake quantizer with a straight-through gradient
# -------------------------------------------------

import datetime

import matplotlib.pyplot as plt
import numpy as np
import torch

from demos import provenance
from demos.quant import fake_quantize


class FakeQuantSTE(torch.autograd.Function):
    """Symmetric fake quantization to the codes -qmax..qmax (127 for INT8, 7 for INT4).

    Backward passes the gradient where |x| <= amax and blocks it where the value was clipped.
    """

    @staticmethod
    def forward(ctx, x, amax, qmax=127):
        scale = amax / qmax
        ctx.save_for_backward(x, amax)
        # torch.round rounds half to even, like ONNX QuantizeLinear and TensorRT.
        return torch.clamp(torch.round(x / scale), -qmax, qmax) * scale

    @staticmethod
    def backward(ctx, grad_out):
        x, amax = ctx.saved_tensors
        return grad_out * (x.abs() <= amax), None, None  # straight through inside the range, zero where clipped


class FakeQuantNoSTE(torch.autograd.Function):
    """The same forward with the true derivative of rounding: zero everywhere."""

    @staticmethod
    def forward(ctx, x, amax, qmax=127):
        return FakeQuantSTE.forward(ctx, x, amax, qmax)

    @staticmethod
    def backward(ctx, grad_out):
        return torch.zeros_like(grad_out), None, None


amax = torch.tensor(1.0)
x = torch.linspace(-1.5, 1.5, 3001, requires_grad=True)
y = FakeQuantSTE.apply(x, amax)
y.sum().backward()

ref = fake_quantize(x.detach().numpy(), 1.0)
print(f"forward equals demos.quant.fake_quantize: {np.array_equal(y.detach().numpy(), ref)}")

# PyTorch's built-in fake quantization with the same grid (scale amax/127, zero point 0, codes -127..127).
x2 = x.detach().clone().requires_grad_(True)
y2 = torch.fake_quantize_per_tensor_affine(x2, float(amax / 127), 0, -127, 127)
y2.sum().backward()
same_grad = torch.equal(x.grad, x2.grad)
differ = x.detach()[x.grad != x2.grad]
print(f"forward equals torch.fake_quantize_per_tensor_affine: {torch.equal(y, y2)}")
print(f"gradients equal: {same_grad}" + ("" if same_grad else
      f"; they differ for {differ.numel()} inputs with {differ.abs().min():.4f} <= |x| <= {differ.abs().max():.4f}"))

# %%
# The two gradients differ only at the edge: PyTorch passes the gradient for every input whose rounded
# code lies inside [-127, 127], which reaches half a step beyond amax (:math:`|x| < 127.5\,s`); the
# quantizer above stops exactly at amax, as ModelOpt's quantizers do when configured with
# ``pass_through_bwd=False``.
# Both are clipped straight-through estimators; the difference is which side of the last half step counts
# as clipped.
# ModelOpt's default (``pass_through_bwd=True`` in nvidia-modelopt 0.47) is the plain STE: the gradient
# passes everywhere, clipped values included, and the input does not have to be kept for the backward
# pass, which saves memory.

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
ax1.plot(x.detach(), x.detach(), color="gray", linewidth=0.8, label="identity")
ax1.plot(x.detach(), y.detach(), label="fake quantized")
ax1.set_xlabel("x")
ax1.set_ylabel("output")
ax1.set_title("Forward: a staircase (127 steps per side), clipped at amax", fontsize=10)
ax1.legend(fontsize=8)
inset = ax1.inset_axes([0.58, 0.08, 0.38, 0.38])
zoom = (x.detach() > 0.4) & (x.detach() < 0.45)
inset.plot(x.detach()[zoom], y.detach()[zoom])
inset.tick_params(labelsize=6)
ax2.plot(x.detach(), np.ones(len(x)), color="gray", linewidth=3, alpha=0.5, label="plain STE (ModelOpt's default)")
ax2.plot(x.detach(), x.grad, label="clipped STE (this page)")
ax2.plot(x.detach(), np.zeros(len(x)), linestyle="--", label="true derivative of rounding")
ax2.set_xlabel("x")
ax2.set_ylabel("d output / d x")
ax2.set_ylim(-0.1, 1.2)
ax2.set_title("Backward", fontsize=10)
ax2.legend(fontsize=8, loc="center")
fig.tight_layout()

# %%
# What the STE does in training
# -----------------------------
# A linear model with 64 inputs learns a teacher's weights while its own weights pass through a 4-bit
# fake quantizer (codes -7..7, amax fixed at the teacher's largest weight, so the grid has only 15 levels
# and rounding matters).
# Four runs from the same start: full precision; fake quantization with the STE, once at a constant and
# once at a decaying learning rate; and fake quantization with the true (zero) gradient.


def train(quantizer, steps=300, bits=4, seed=0, decay=False):
    gen = torch.Generator().manual_seed(seed)
    teacher = torch.randn(64, generator=gen)
    inputs = torch.randn(512, 64, generator=gen)
    target = inputs @ teacher
    w = (teacher + 0.5 * torch.randn(64, generator=gen)).requires_grad_(True)  # a perturbed start
    amax_w = teacher.abs().max()
    qmax = 2 ** (bits - 1) - 1  # 7 codes per side for 4 bits
    opt = torch.optim.SGD([w], lr=0.05)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if decay else None
    losses = []
    for _ in range(steps):
        w_used = w if quantizer is None else quantizer.apply(w, amax_w, qmax)
        loss = torch.mean((inputs @ w_used - target) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
    grad_norm = 0.0 if w.grad is None else float(w.grad.norm())
    return np.array(losses), grad_norm


def rounded_teacher_loss(bits=4, seed=0):
    """Loss of the teacher's own weights rounded to the same grid: what plain rounding after training gives."""
    gen = torch.Generator().manual_seed(seed)
    teacher = torch.randn(64, generator=gen)
    inputs = torch.randn(512, 64, generator=gen)
    qmax = 2 ** (bits - 1) - 1
    with torch.no_grad():
        w_q = FakeQuantSTE.apply(teacher, teacher.abs().max(), qmax)
        return float(torch.mean((inputs @ w_q - inputs @ teacher) ** 2))


runs = {
    "full precision": train(None),
    "4-bit fake quant, STE": train(FakeQuantSTE),
    "4-bit fake quant, STE, cosine-decayed lr": train(FakeQuantSTE, decay=True),
    "4-bit fake quant, true gradient": train(FakeQuantNoSTE),
}
rounded = rounded_teacher_loss()
print(f"synthetic data (torch.Generator seed 0); computed on {provenance.cpu_model()}, torch {torch.__version__}, "
      f"{datetime.date.today().isoformat()}")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for (label, (losses, _)), color in zip(runs.items(), ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")):
    ax1.semilogy(losses, label=label, color=color)
    if "STE" in label:
        ax2.plot(losses, label=label, color=color, linewidth=1)
ax2.axhline(rounded, color="black", linestyle="--", linewidth=1, label="teacher rounded to the grid")
ax2.set_ylim(0, 4 * rounded)
for ax in (ax1, ax2):
    ax.set_xlabel("SGD step")
    ax.legend(fontsize=7)
ax1.set_ylabel("training loss (MSE)")
ax1.set_title("All runs (log scale)", fontsize=10)
ax2.set_title("The STE runs (linear scale)", fontsize=10)
fig.suptitle("Learning through a 4-bit weight quantizer (synthetic linear model)")
fig.tight_layout()
for label, (losses, grad_norm) in runs.items():
    print(f"{label:<40} loss {losses[0]:9.4f} -> {losses[-1]:9.4f} (lowest {losses.min():.4f})   "
          f"last gradient norm {grad_norm:.3g}")
print(f"{'teacher rounded to the 4-bit grid':<40} loss {rounded:.4f}")

# %%
# With the true derivative the weights never move: the loss stays where it started.
# With the STE the model learns, down to a floor that full precision does not have, because only the 15
# grid values are available to each weight.
# At a constant learning rate it does not settle: a latent weight near a rounding threshold receives the
# full gradient although its quantized value does not change, then crosses the threshold and jumps back,
# so the loss keeps jumping.
# A decaying learning rate lets it settle, near the loss of the teacher's own weights rounded to the grid:
# the STE follows the gradient as if there were no rounding, an approximation that gets close to the
# best grid point without a guarantee of reaching it.
#
# QAT recipes follow from this: a small, decaying learning rate, so that the weights settle on grid
# points; a start from a trained model, so that they start near good ones; and a short schedule, a small
# fraction of the original training. They also keep the BatchNorm statistics fixed. The QAT page applies
# this recipe with ModelOpt, whose quantizers train through the rounding with a straight-through estimator
# too.
