"""Stage ``qat``: quantization-aware fine-tuning with ModelOpt, exported as a Q/DQ ONNX model.

Recipe (the one NVIDIA recommends for QAT after PTQ):

1. Start from the trained FP32 model (the weights recorded in ``fp32.onnx``).
2. ``mtq.quantize(model, mtq.INT8_DEFAULT_CFG, forward_loop)`` inserts fake quantizers (per-channel weights,
   per-tensor activations) and calibrates them with ``max`` on the calibration images: this is PTQ.
3. Fine-tune briefly (a small fraction of the original schedule) with the learning rate annealed to zero
   (cosine), BatchNorm statistics frozen (BN layers stay in eval mode: their running statistics were
   computed without quantization noise and a few small batches would only corrupt them). The straight-
   through estimator passes gradients through the rounding. The loss is distillation from the FP32 model
   (KL divergence of the softmax outputs), so no labels are needed; ``--label-weight`` adds cross-entropy
   on the labels.
4. Export with the TorchScript exporter (``dynamo=False``): the dynamo exporter fails on ModelOpt's fake-quant
   modules (seen with torch 2.14). The fake quantizers become QuantizeLinear/DequantizeLinear pairs.

The fine-tuning images are the calibration pool; evaluation uses the disjoint evaluation pool.
"""

from __future__ import annotations

import copy
import io
import math
import time
from pathlib import Path

import numpy as np

from demos import data, models, onnx_tools
from demos.errors import UserError
from demos.resnet50 import common
from demos.resnet50.export import INPUT, OUTPUT
from demos.resnet50.workdir import Workdir


def freeze_batchnorm(model) -> int:
    """Put every BatchNorm in eval mode (running statistics frozen); returns how many."""
    import torch

    n = 0
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
            n += 1
    return n


def qat(spec, x: np.ndarray, y: np.ndarray, out: Path, epochs: int = 1, batch: int = 16, lr: float = 1e-5,
        label_weight: float = 0.0, seed: int = 0) -> dict:
    import modelopt.torch.quantization as mtq
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    model, _ = models.build(spec.name, spec.weights)
    teacher = copy.deepcopy(model).eval()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def forward_loop(m):
        with torch.no_grad():
            for i in range(0, len(xt), batch):
                m(xt[i:i + batch])

    t0 = time.perf_counter()
    model = mtq.quantize(model, mtq.INT8_DEFAULT_CFG, forward_loop)  # PTQ (max) with fake quantizers
    calib_s = time.perf_counter() - t0

    steps_per_epoch = math.ceil(len(xt) / batch)
    total = max(1, epochs * steps_per_epoch)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=0.0)
    with torch.no_grad():
        teacher_logits = torch.cat([teacher(xt[i:i + batch]) for i in range(0, len(xt), batch)])
    losses = []
    model.train()
    frozen = freeze_batchnorm(model)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    with tqdm(total=total, desc="QAT", unit="step", leave=False) as bar:
        for _ in range(epochs):
            order = torch.randperm(len(xt), generator=gen)
            for i in range(0, len(xt), batch):
                idx = order[i:i + batch]
                logits = model(xt[idx])
                loss = F.kl_div(F.log_softmax(logits, 1), F.softmax(teacher_logits[idx], 1), reduction="batchmean")
                if label_weight:
                    loss = loss + label_weight * F.cross_entropy(logits, yt[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                losses.append(loss.item())
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.4f}")
    train_s = time.perf_counter() - t0
    model.eval()

    onnx_model = export_qdq(model, x[:2])
    src_meta = spec.to_metadata()
    onnx_tools.set_metadata(onnx_model, src_meta)
    onnx_tools.save(onnx_model, out)
    check = _check_export(model, out, x[:4])
    return {"model": spec.name, "weights": spec.weights_label, "real_weights": spec.real_weights, "file": str(out),
            "config": "mtq.INT8_DEFAULT_CFG (int8 per-channel weights, per-tensor activations, max calibration)",
            "images": len(xt), "epochs": epochs, "steps": total, "batch": batch, "lr": lr,
            "lr_schedule": "cosine to 0", "loss": "KL(student || FP32 teacher)" + (
                f" + {label_weight} x cross-entropy" if label_weight else ""),
            "batchnorm_frozen": frozen, "loss_first": losses[0], "loss_last": losses[-1],
            "calibration_seconds": round(calib_s, 1), "train_seconds": round(train_s, 1),
            "exporter": "torchscript (dynamo=False)", "export_check": check}


def export_qdq(model, example: np.ndarray):
    """Fake-quant model -> ONNX with QuantizeLinear/DequantizeLinear, via the TorchScript exporter."""
    import onnx
    import torch

    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model, (torch.from_numpy(example),), buf, dynamo=False, opset_version=17,
                          input_names=[INPUT], output_names=[OUTPUT],
                          dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}})
    return onnx.load_from_string(buf.getvalue())


def _check_export(model, path: Path, x: np.ndarray) -> dict:
    """The exported Q/DQ model on ORT (float emulation) against the fake-quant PyTorch model."""
    import torch

    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    got = onnx_tools.run(onnx_tools.session(path, optimization="basic"), x)
    rel = float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))
    agree = float((got.argmax(1) == ref.argmax(1)).mean())
    return {"rel_l2_vs_torch_fakequant": rel, "agreement": agree}


def add_arguments(p) -> None:
    p.add_argument("--onnx", type=Path, help="FP32 ONNX whose weights to start from (default WORKDIR/fp32.onnx)")
    p.add_argument("--out", type=Path, help="output (default WORKDIR/int8_qat.onnx)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--label-weight", type=float, default=0.0, help="weight of cross-entropy on labels (default 0)")
    common.add_data_arguments(p, calib=True)


def run(args) -> dict:
    wd = Workdir(args.workdir)
    src = common.onnx_arg(args, "onnx", wd, "fp32.onnx")
    spec = onnx_tools.spec_of(onnx_tools.load(src), src)
    if spec.weights not in ("random", "imagenet", "pretrained") and not Path(spec.weights).is_file():
        raise UserError(f"{src} was exported from weights {spec.weights}, which no longer exist; re-export")
    if args.epochs < 1 or args.batch < 1 or args.lr <= 0:
        raise UserError("--epochs, --batch and --lr must be positive")
    items = common.calibration_items(args)
    stats = data.LoadStats()
    x, y = data.load_array(items, spec.preprocess, stats, progress="QAT images")
    out = args.out or wd.path("int8_qat.onnx")
    rec = qat(spec, x, y, out, args.epochs, args.batch, args.lr, args.label_weight)
    rec["data"] = {"folder": str(args.data), "split": "calibration pool", "data_sha256": data.data_hash(items),
                   **stats.to_dict()}
    print(f"QAT: {rec['steps']} steps on {rec['images']} images, loss {rec['loss_first']:.4f} -> {rec['loss_last']:.4f}; "
          f"exported -> {out} (ORT vs PyTorch fake-quant: rel L2 {rec['export_check']['rel_l2_vs_torch_fakequant']:.1e})")
    wd.record("qat", "int8_qat", rec)
    return rec
