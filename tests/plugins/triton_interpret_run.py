"""Run the Triton kernel in Triton's CPU interpreter; print JSON comparing it with the NumPy reference.

Executed by test_kernels_cpu.py in a child process with TRITON_INTERPRET=1 (Triton reads it on import).
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from demos.plugins import triton_kernel  # noqa: E402
from demos.plugins.fields import EFFICIENTNET_LITE, IMAGENET  # noqa: E402
from demos.plugins.reference import preprocess_numpy  # noqa: E402

results = []
generator = torch.Generator().manual_seed(7)
for fields in (IMAGENET, EFFICIENTNET_LITE):
    for shape in [(1, 1, 1, 3), (2, 5, 7, 3), (3, 37, 53, 3)]:
        for in_dtype in ("uint8", "float16"):
            for out_dtype in ("float32", "float16"):
                f = fields.with_out_dtype(out_dtype)
                image_u8 = torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator)
                image = image_u8 if in_dtype == "uint8" else image_u8.to(torch.float16)
                out = torch.full((shape[0], 3, shape[1], shape[2]), float("nan"), dtype=getattr(torch, out_dtype))
                triton_kernel.launch(image, out, f, block=64)  # small blocks: several programs and a ragged tail
                got = out.numpy()
                ref = preprocess_numpy(image_u8.numpy(), f)
                bits = np.uint32 if out_dtype == "float32" else np.uint16
                results.append({"shape": shape, "in": in_dtype, "out": out_dtype,
                                "unwritten": int(np.isnan(got).sum()),
                                "exact": float(np.mean(got.view(bits) == ref.view(bits)))})
print(json.dumps(results))
