"""
FP16 and BF16: range against precision
=======================================

FP16 and BF16 are both 16 bits wide, but they spend their bits differently.
FP16 keeps 10 bits of fraction and 5 of exponent; BF16 keeps 7 bits of fraction and 8 of exponent,
the same exponent as FP32.
This page computes, from the number types themselves, where the representable numbers of each format
lie, and what that means for a tensor.
"""

# %%
# The facts, from the types
# -------------------------
# NumPy knows FP16 and ml_dtypes adds BF16, so nothing below is typed from memory:
# every limit is read from ``finfo``.

import matplotlib.pyplot as plt
import ml_dtypes
import numpy as np

formats = {"fp16": np.dtype(np.float16), "bf16": np.dtype(ml_dtypes.bfloat16)}

for name, dtype in formats.items():
    info = ml_dtypes.finfo(dtype)
    print(
        f"{name}: exponent bits {info.nexp}, fraction bits {info.nmant}, "
        f"max {float(info.max):.4g}, smallest normal {float(info.tiny):.4g}, "
        f"smallest subnormal {float(info.smallest_subnormal):.4g}, epsilon {float(info.eps):.4g}"
    )

# %%
# Where the numbers lie
# ---------------------
# Floating-point numbers are dense near zero and sparse far from it: the gap between neighbours
# grows with the magnitude.  The relative gap stays roughly constant within the range, and it is
# this relative gap, the precision, that differs between the two formats.  Here every positive
# finite value of each format is enumerated from its bit patterns.


def positive_values(dtype: np.dtype) -> np.ndarray:
    """Every positive finite value of a 16-bit format, in increasing order."""
    bits = np.arange(1, 0x7F80 if dtype == formats["bf16"] else 0x7C00, dtype=np.uint16)
    values = bits.view(dtype).astype(np.float64)
    return values[np.isfinite(values)]


fig, ax = plt.subplots(figsize=(8, 4))
for name, dtype in formats.items():
    values = positive_values(dtype)
    relative_gap = np.diff(values) / values[:-1]
    ax.loglog(values[:-1], relative_gap, label=name, linewidth=1)
ax.set_xlabel("value")
ax.set_ylabel("gap to the next value / value")
ax.set_title("Relative spacing of representable positive numbers")
ax.grid(True, which="major", alpha=0.3)
ax.legend()
fig.tight_layout()

# %%
# FP16 reaches only to 65504, while BF16 covers almost the same range as FP32.
# In exchange, between 1 and 2 FP16 has 1024 values and BF16 has 128.

for name, dtype in formats.items():
    values = positive_values(dtype)
    between_one_and_two = np.count_nonzero((values >= 1) & (values < 2))
    print(f"{name}: {values.size} positive finite values, {between_one_and_two} in [1, 2)")

# %%
# What that means for a tensor
# ----------------------------
# A tensor with a large value overflows in FP16 but not in BF16; a tensor of values close to each
# other loses more detail in BF16.  The round-trip error is measured on the same FP32 tensor in both
# formats.

rng = np.random.default_rng(0)
activations = rng.standard_normal(10_000).astype(np.float32)
activations[0] = 70_000.0  # one outlier beyond FP16's largest finite value

for name, dtype in formats.items():
    round_trip = activations.astype(dtype).astype(np.float32)
    finite = np.isfinite(round_trip)
    rel_err = np.abs(round_trip[finite][1:] - activations[finite][1:]) / np.abs(activations[finite][1:])
    print(
        f"{name}: non-finite values {np.count_nonzero(~finite)}, "
        f"median relative error of the others {np.median(rel_err):.2e}"
    )

# %%
# FP16 turns the outlier into infinity but keeps the other values about eight times more precisely
# than BF16.  This is why FP16 inference needs care with large activations, the subject of the FP16
# pages, and why BF16 is popular for training, where range matters more than precision.
