"""Stage ``qat``: quantization-aware fine-tuning with ModelOpt, exported as a Q/DQ ONNX model.

Recipe (the one NVIDIA recommends for QAT after PTQ):

1. Start from the trained FP32 model (the weights recorded in ``fp32.onnx``).
2. ``mtq.quantize(model, mtq.INT8_DEFAULT_CFG, forward_loop)`` inserts fake quantizers (per-channel weights,
   per-tensor activations) and calibrates them with ``max`` on the calibration images: this is PTQ.
3. Fine-tune briefly (a small fraction of the original schedule) with the learning rate annealed along a
   cosine to 1 % of its start, as NVIDIA's pytorch-quantization guide recommends, BatchNorm statistics
   frozen (BN layers stay in eval mode: their running statistics were computed without quantization noise
   and a few small batches would only corrupt them). The straight-through estimator passes gradients
   through the rounding (ModelOpt's default, ``pass_through_bwd=True``, passes them unchanged everywhere,
   also where the value was clipped). The loss is distillation from the FP32 model, the KL divergence
   KL(teacher || student) of the softmax outputs, so no labels are needed; ``--label-weight`` adds
   cross-entropy on the labels.
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


WEIGHT_SCALES = ("per-channel", "per-tensor-depthwise", "per-tensor")
EXPORT_CHECK_IMAGES = 64
RESIDUAL_QUANTIZER = "residual_quantizer"


def quant_config(weight_scales: str = "per-channel", depthwise: list[str] | tuple = ()) -> dict:
    """ModelOpt's INT8 configuration, with per-tensor weight scales where ``weight_scales`` asks for them.

    ``per-channel`` is ``mtq.INT8_DEFAULT_CFG`` (one scale per output channel of every weight, one per tensor
    for activations). ``per-tensor-depthwise`` gives the depthwise convolutions a single weight scale, as a
    target that only supports per-tensor weight scales there would (``depthwise``: their module names, from
    :func:`depthwise_convs`); ``per-tensor`` does so for every weight.
    Later entries of ``quant_cfg`` override earlier ones for the quantizers they match.
    """
    import modelopt.torch.quantization as mtq

    if weight_scales not in WEIGHT_SCALES:
        raise UserError(f"unknown --weight-scales {weight_scales!r}; choose one of {', '.join(WEIGHT_SCALES)}")
    cfg = copy.deepcopy(mtq.INT8_DEFAULT_CFG)
    per_tensor = {"num_bits": 8, "axis": None}
    if weight_scales == "per-tensor":
        cfg["quant_cfg"].append({"quantizer_name": "*weight_quantizer", "cfg": per_tensor})
    elif weight_scales == "per-tensor-depthwise":
        if not depthwise:
            raise UserError("--weight-scales per-tensor-depthwise: this model has no depthwise convolutions")
        cfg["quant_cfg"] += [{"quantizer_name": f"{name}.weight_quantizer", "cfg": per_tensor} for name in depthwise]
    return cfg


def depthwise_convs(model) -> list[str]:
    """Names of the depthwise convolutions (``groups == in_channels > 1``)."""
    import torch

    return [n for n, m in model.named_modules()
            if isinstance(m, torch.nn.Conv2d) and m.groups > 1 and m.groups == m.in_channels]


def fold_batchnorm(model) -> int:
    """Fold every BatchNorm that directly follows a convolution into that convolution, in place.

    This is what the deployed graph looks like: the ONNX exporter (eval mode) and TensorRT fold BatchNorm
    into the preceding convolution. timm's ``BatchNormAct2d`` also holds the activation; it is kept.
    Returns how many BatchNorm layers were folded.
    """
    import torch
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    n = 0
    for parent in list(model.modules()):
        kids = list(parent.named_children())
        for (cname, conv), (bname, bn) in zip(kids, kids[1:]):
            if isinstance(conv, torch.nn.Conv2d) and isinstance(bn, torch.nn.BatchNorm2d):
                setattr(parent, cname, fuse_conv_bn_eval(conv.eval(), bn.eval()))
                rest = [m for m in (getattr(bn, "drop", None), getattr(bn, "act", None)) if m is not None]
                setattr(parent, bname, torch.nn.Sequential(*rest) if rest else torch.nn.Identity())
                n += 1
    return n


def freeze_batchnorm(model) -> int:
    """Put every BatchNorm in eval mode (running statistics frozen); returns how many."""
    import torch

    n = 0
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
            n += 1
    return n


def add_residual_quantizers(model) -> int:
    """Give each torchvision ResNet bottleneck a quantizer on its residual (identity) branch; returns how many.

    ModelOpt quantizes the inputs of the modules it knows (convolutions, linear layers, pooling), but the
    residual ``out += identity`` is not a module, so by default both inputs of the add stay in floating
    point. TensorRT's placement rule for residual adds wants Q/DQ on the identity input: then the
    convolution of the other branch, the add and the ReLU fuse into one INT8 kernel. The quantizer goes
    into ``downsample`` (called on the identity only), after the downsample convolution when there is one.
    :func:`calibrate` calls this after ``mtq.quantize`` when asked to (``residual=True``).
    """
    from collections import OrderedDict

    import torch
    from modelopt.torch.quantization.nn import TensorQuantizer

    n = 0
    for block in model.modules():
        if type(block).__name__ in ("Bottleneck", "BasicBlock") and hasattr(block, "downsample"):
            parts = [("proj", block.downsample)] if block.downsample is not None else []
            block.downsample = torch.nn.Sequential(OrderedDict(parts + [(RESIDUAL_QUANTIZER, TensorQuantizer())]))
            n += 1
    return n


def logits(model, x: np.ndarray, batch: int = 25) -> np.ndarray:
    """Logits of a PyTorch model (FP32 or fake-quantized) on preprocessed images, in eval mode."""
    import torch

    model.eval()
    with torch.inference_mode():
        return torch.cat([model(torch.from_numpy(x[i:i + batch])) for i in range(0, len(x), batch)]).numpy()


def calibrate(model, x: np.ndarray, weight_scales: str = "per-channel", batch: int = 32, residual: bool = False):
    """PTQ in PyTorch: insert ModelOpt fake quantizers and calibrate them (``max``) on ``x``. Returns the model.

    ``residual=True`` also quantizes the identity input of every ResNet residual add
    (:func:`add_residual_quantizers`).
    """
    import modelopt.torch.quantization as mtq
    import torch

    xt = torch.from_numpy(x)

    def forward_loop(m):
        with torch.no_grad():
            for i in range(0, len(xt), batch):
                m(xt[i:i + batch])

    model = mtq.quantize(model, quant_config(weight_scales, depthwise_convs(model)), forward_loop)
    if residual:
        # After mtq.quantize: ModelOpt treats a model that already holds quantizers as converted.
        if not add_residual_quantizers(model):
            raise UserError("residual quantizers: this model has no ResNet bottleneck blocks")
        mtq.calibrate(model, "max", forward_loop)  # max is deterministic: the other scales do not change
    return model


FINAL_LR_FRACTION = 0.01  # the cosine ends at 1 % of the starting learning rate (pytorch-quantization's guide)


def distillation_loss(student_logits, teacher_logits):
    """KL(teacher || student) of the softmax outputs, averaged over the batch.

    ``F.kl_div(input, target)`` computes ``sum target * (log target - input)``: with the student's
    log-probabilities as input and the teacher's probabilities as target, that is
    KL(teacher || student) = sum p_T * log(p_T / p_S), the usual distillation loss.
    """
    import torch.nn.functional as F

    return F.kl_div(F.log_softmax(student_logits, 1), F.softmax(teacher_logits, 1), reduction="batchmean")


def finetune(model, teacher, x: np.ndarray, y: np.ndarray, epochs: int = 1, batch: int = 16, lr: float = 1e-5,
             optimizer: str = "sgd", label_weight: float = 0.0, seed: int = 0, progress: bool = True) -> dict:
    """Quantization-aware fine-tuning of a calibrated model, NVIDIA's recipe.

    Short schedule, learning rate annealed with a cosine from ``lr`` to 1 % of it, BatchNorm frozen (eval
    mode), the quantizer scales kept as calibrated. The loss is distillation from the FP32 ``teacher``
    (:func:`distillation_loss`), so no labels are needed; ``label_weight`` adds cross-entropy on ``y``.
    Returns the loss (per step and averaged per epoch) and learning-rate history.
    """
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    if epochs < 1 or batch < 1 or not (math.isfinite(lr) and lr > 0):
        raise UserError("epochs, batch and lr must be positive")
    if not (math.isfinite(label_weight) and label_weight >= 0):
        raise UserError(f"the label weight must be 0 or more, got {label_weight}")
    torch.manual_seed(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9)
    elif optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr)
    else:
        raise UserError(f"unknown optimizer {optimizer!r}; choose sgd or adam")
    total = epochs * math.ceil(len(xt) / batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=lr * FINAL_LR_FRACTION)
    with torch.no_grad():
        teacher_logits = torch.cat([teacher(xt[i:i + batch]) for i in range(0, len(xt), batch)])
    losses, lrs, epoch_losses = [], [], []
    model.train()
    frozen = freeze_batchnorm(model)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    with tqdm(total=total, desc="QAT", unit="step", leave=False, disable=not progress) as bar:
        for _ in range(epochs):
            order = torch.randperm(len(xt), generator=gen)
            for i in range(0, len(xt), batch):
                idx = order[i:i + batch]
                out = model(xt[idx])
                loss = distillation_loss(out, teacher_logits[idx])
                if label_weight:
                    loss = loss + label_weight * F.cross_entropy(out, yt[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                lrs.append(opt.param_groups[0]["lr"])
                if not math.isfinite(loss.item()):  # never export (or record) a model trained into NaN
                    raise UserError(f"QAT diverged: the loss is {loss.item()} at step {len(losses) + 1}; "
                                    "lower --lr and rerun")
                opt.step()
                sched.step()
                losses.append(loss.item())
                bar.update(1)
            epoch_losses.append(float(np.mean(losses[-math.ceil(len(xt) / batch):])))
    model.eval()
    return {"steps": total, "epochs": epochs, "batch": batch, "lr": lr, "optimizer": optimizer,
            "lr_schedule": f"cosine to {FINAL_LR_FRACTION:.0%} of lr", "loss": "KL(FP32 teacher || student)" + (
                f" + {label_weight} x cross-entropy" if label_weight else ""),
            "batchnorm_frozen": frozen, "losses": losses, "lrs": lrs, "epoch_losses": epoch_losses,
            "train_seconds": round(time.perf_counter() - t0, 1)}


def qat(spec, x: np.ndarray, y: np.ndarray, out: Path, epochs: int = 1, batch: int = 16, lr: float = 1e-5,
        label_weight: float = 0.0, seed: int = 0, weight_scales: str = "per-channel", fold_bn: bool = False,
        optimizer: str = "sgd", lineage: tuple[str | None, dict] | None = None) -> dict:
    """Calibrate (PTQ, ``max``), fine-tune and export ``spec``'s model to ``out``; return the record.

    ResNet50 also gets quantizers on the identity input of its residual adds (:func:`add_residual_quantizers`),
    the placement TensorRT wants and ModelOpt's ONNX PTQ writes for the ``ptq`` stage, so that the PTQ and QAT
    models quantize the same tensors. ``lineage``: ``(fp32 sha256, inputs)`` for the file's metadata.
    """
    import torch

    torch.manual_seed(seed)
    model, now = models.build(spec.name, spec.weights)
    if spec.weights_sha256 and now.weights_sha256 != spec.weights_sha256:
        raise UserError(f"the weights {spec.weights} changed since the model was exported; export it again")
    folded = fold_batchnorm(model) if fold_bn else 0
    teacher = copy.deepcopy(model).eval()
    t0 = time.perf_counter()
    residual = spec.name == "resnet50"
    model = calibrate(model, x, weight_scales, batch=max(batch, 32), residual=residual)  # PTQ (max), fake quantizers
    calib_s = time.perf_counter() - t0
    hist = finetune(model, teacher, x, y, epochs, batch, lr, optimizer, label_weight, seed)

    onnx_model = export_qdq(model, x[:2])
    onnx_tools.set_metadata(onnx_model, spec.to_metadata())
    if lineage is not None:
        from demos.resnet50 import workdir

        workdir.stamp(onnx_model, *lineage)
    onnx_tools.save(onnx_model, out)
    check = _check_export(model, out, x[:8])
    losses = hist.pop("losses")
    hist.pop("lrs")
    return {"model": spec.name, "weights": spec.weights_label, "real_weights": spec.real_weights, "file": str(out),
            "config": describe_config(weight_scales), "weight_scales": weight_scales,
            "batchnorm_folded": folded, "residual_quantizers": residual, "images": len(x), **hist,
            "loss_first": losses[0], "loss_last": losses[-1],
            "calibration_seconds": round(calib_s, 1), "exporter": "torchscript (dynamo=False)",
            "export_check": check}


def describe_config(weight_scales: str) -> str:
    weights = {"per-channel": "int8 per-channel weights",
               "per-tensor-depthwise": "int8 weights per-channel, per-tensor in depthwise convolutions",
               "per-tensor": "int8 per-tensor weights"}[weight_scales]
    return f"mtq.INT8_DEFAULT_CFG ({weights}, per-tensor activations, max calibration)"


def study(model_name: str, weights: str, train: tuple[np.ndarray, np.ndarray], evaluation: tuple[np.ndarray, np.ndarray],
          weight_scales: str = "per-tensor-depthwise", fold_bn: bool = True, calib_count: int = 64, epochs: int = 2,
          batch: int = 16, lr: float = 1e-5, optimizer: str = "adam", seed: int = 0, progress: bool = True):
    """PTQ, then QAT from the PTQ model, both measured against FP32 on the same evaluation images.

    ``train`` (images, labels) must come from the calibration pool: its first ``calib_count`` images
    calibrate, all of them fine-tune. Returns ``(record, qat_model, arrays)``; ``arrays`` holds the
    logits of FP32, PTQ and QAT and the loss and learning-rate history.
    """
    from demos.resnet50 import evaluate

    (xt, yt), (xe, ye) = train, evaluation
    model, spec = models.build(model_name, weights)
    folded = fold_batchnorm(model) if fold_bn else 0
    t0 = time.perf_counter()
    ref = logits(model, xe)
    quant = calibrate(copy.deepcopy(model), xt[:calib_count], weight_scales)
    ptq = logits(quant, xe)
    hist = finetune(quant, model, xt, yt, epochs, batch, lr, optimizer, seed=seed, progress=progress)
    qat_logits = logits(quant, xe)
    m = {name: evaluate.metrics(lg, ye, ref, spec.real_weights).to_dict()
         for name, lg in (("fp32", ref), ("ptq", ptq), ("qat", qat_logits))}
    arrays = {"fp32": ref, "ptq": ptq, "qat": qat_logits, "losses": np.array(hist.pop("losses")),
              "lrs": np.array(hist.pop("lrs"))}
    record = {"model": spec.name, "weights": spec.weights_label, "real_weights": spec.real_weights,
              "config": describe_config(weight_scales), "weight_scales": weight_scales,
              "batchnorm_folded": folded, "calibration_images": min(calib_count, len(xt)),
              "train_images": len(xt), "eval_images": len(xe), "finetune": hist, "metrics": m,
              "seconds": round(time.perf_counter() - t0, 1)}
    return record, quant, arrays


def _key(**extra) -> dict:
    import modelopt
    import torch

    from demos import files

    return {"code_sha256": files.sha256_file(__file__), "torch": torch.__version__,
            "modelopt": modelopt.__version__, **extra}


def cached_study(cache_dir: Path, train, evaluation, **params) -> tuple[dict, dict, Path]:
    """:func:`study` on EfficientNet-Lite0 (real weights) with its QAT model exported, cached in ``cache_dir``.

    ``train`` and ``evaluation`` are :class:`demos.gallery_cache.Images`. The cache (NumPy + JSON, key inside:
    this file's hash, data hashes, versions, parameters) is reused only for exactly these inputs.
    Returns ``(record, arrays, qat_onnx_path)``.
    """
    from demos import files

    key = _key(train=train.data_hash, evaluation=evaluation.data_hash, params=params)
    path, onnx_path = Path(cache_dir) / "study.npz", Path(cache_dir) / "int8_qat_study.onnx"
    hit = files.load_cache(path, key, rows={k: len(evaluation.labels) for k in ("fp32", "ptq", "qat")})
    if hit is not None and onnx_path.exists() and files.sha256_file(onnx_path) == hit[1]["onnx_sha256"]:
        return hit[1]["record"], hit[0], onnx_path
    record, model, arrays = study("efficientnet_lite0", "pretrained", (train.array, train.labels),
                                  (evaluation.array, evaluation.labels), **params)
    _, spec = models.build("efficientnet_lite0", "pretrained")
    onnx_model = export_qdq(model, train.array[:2])
    onnx_tools.set_metadata(onnx_model, spec.to_metadata())
    onnx_tools.save(onnx_model, onnx_path)
    record["export_check"] = _check_export(model, onnx_path, evaluation.array[:EXPORT_CHECK_IMAGES])
    files.save_cache(path, key, arrays, {"record": record, "onnx_sha256": files.sha256_file(onnx_path)})
    return record, arrays, onnx_path


def residual_placement(cache_dir: Path, seed: int = 0) -> dict:
    """ResNet50 (random weights: structure only) with :func:`add_residual_quantizers`, exported to ONNX.

    Returns the :func:`add_inputs` rows and the op counts of the exported file, cached in ``cache_dir``.
    """
    import collections

    import torch

    from demos import files

    key = _key(seed=seed, model="resnet50 random")
    path = Path(cache_dir) / "residual_placement.npz"
    hit = files.load_cache(path, key)
    if hit is not None:
        return hit[1]
    x = np.random.default_rng(seed).standard_normal((2, 3, 224, 224)).astype(np.float32)
    torch.manual_seed(seed)
    model, spec = models.build("resnet50", "random", seed)
    model = calibrate(model, x, residual=True)
    onnx_model = export_qdq(model, x[:1])
    onnx_tools.set_metadata(onnx_model, spec.to_metadata())
    onnx_path = onnx_tools.save(onnx_model, Path(cache_dir) / "resnet50_random_residual_qdq.onnx")
    out = {"adds": add_inputs(onnx_model), "ops": dict(collections.Counter(n.op_type for n in onnx_model.graph.node)),
           "onnx": str(onnx_path), "weights": spec.weights_label}
    files.save_cache(path, key, None, out)
    return out


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
    """The exported Q/DQ model on ORT (float emulation) against the fake-quant PyTorch model it came from.

    Two correct implementations of one quantized network do not agree bit for bit: wherever an
    intermediate value lies within float rounding of a quantization boundary, the order of the sums decides
    which side it lands on, and every such flip travels on through the later layers. The same PyTorch model
    run in float64 against float32 measures that floor (``torch_float64_vs_float32``); ORT against PyTorch
    is an export error only where it is far above it.
    """
    ref = logits(model, x, batch=16)
    got = onnx_tools.run(onnx_tools.session(path, optimization="basic"), x)
    wide = logits(copy.deepcopy(model).double(), x.astype(np.float64), batch=16)

    def compare(a, b) -> dict:
        return {"rel_l2": float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30)),
                "agreement": float((a.argmax(1) == b.argmax(1)).mean())}

    onnx_vs_torch = compare(got, ref)
    return {"images": len(x), "rel_l2_vs_torch_fakequant": onnx_vs_torch["rel_l2"],
            "agreement": onnx_vs_torch["agreement"], "torch_float64_vs_float32": compare(wide, ref)}


def add_inputs(onnx_model) -> list[dict]:
    """For every Add of two computed tensors: whether each input arrives through QuantizeLinear ->
    DequantizeLinear (what TensorRT needs to run the add, fused with the convolution before it, in INT8)
    and which op computed it (looking through Q/DQ and the Cast/Identity nodes the exporter inserts).
    """
    producer = {o: n for n in onnx_model.graph.node for o in n.output}
    consts = {i.name for i in onnx_model.graph.initializer}

    def source(name):
        node = producer.get(name)
        while node is not None and node.op_type in ("QuantizeLinear", "DequantizeLinear", "Cast", "Identity"):
            node = producer.get(node.input[0])
        return node.op_type if node is not None else "graph input"

    rows = []
    for node in onnx_model.graph.node:
        if node.op_type != "Add" or any(i in consts or i not in producer for i in node.input):
            continue
        if any(producer[i].op_type == "Constant" for i in node.input):
            continue
        rows.append({"name": node.name, "inputs": [
            {"quantized": producer[i].op_type == "DequantizeLinear", "from": source(i)} for i in node.input]})
    return rows


def add_arguments(p) -> None:
    p.add_argument("--onnx", type=Path, help="FP32 ONNX whose weights to start from (default WORKDIR/fp32.onnx)")
    p.add_argument("--out", type=Path, help="output (default WORKDIR/int8_qat.onnx)")
    p.add_argument("--epochs", type=common.positive_int, default=2, help="passes over the images (default 2)")
    p.add_argument("--batch", type=common.positive_int, default=16, help="images per training step (default 16)")
    p.add_argument("--lr", type=common.positive_float, default=1e-5, help="initial learning rate (default 1e-5)")
    p.add_argument("--label-weight", type=common.nonnegative_float, default=0.0,
                   help="weight of cross-entropy on labels (default 0)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    p.add_argument("--weight-scales", choices=WEIGHT_SCALES, default="per-channel",
                   help="per-tensor-depthwise / per-tensor: one weight scale per tensor there (default per-channel)")
    p.add_argument("--fold-bn", action="store_true", help="fold BatchNorm into the convolutions before quantizing")
    common.add_data_arguments(p, calib=True)


def check_arguments(args) -> None:
    common.check_out(args)


def run(args) -> dict:
    from demos import files
    from demos.resnet50 import workdir

    wd = Workdir(args.workdir)
    src = common.onnx_arg(args, "onnx", wd, "fp32.onnx")
    model = onnx_tools.load(src)
    spec = onnx_tools.spec_of(model, src)
    common.check_image_input(model, spec, src)
    if spec.weights not in ("random", "imagenet", "pretrained") and not Path(spec.weights).is_file():
        raise UserError(f"{src} was exported from weights {spec.weights}, which no longer exist; re-export")
    items = common.calibration_items(args)
    wd.forget("qat", "int8_qat")
    stats = data.LoadStats()
    x, y = data.load_array(items, spec.preprocess, stats, progress="QAT images")
    out = args.out or wd.path("int8_qat.onnx")
    data_hash = data.data_hash(items)
    inputs = {"fp32_sha256": workdir.fp32_sha256_of(src, model) or files.sha256_file(src), "data_sha256": data_hash,
              "images": len(items), "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
              "label_weight": args.label_weight, "optimizer": args.optimizer, "weight_scales": args.weight_scales,
              "fold_bn": args.fold_bn, "code_sha256": files.sha256_file(__file__), "versions": common.library_versions()}
    rec = qat(spec, x, y, out, args.epochs, args.batch, args.lr, args.label_weight,
              weight_scales=args.weight_scales, fold_bn=args.fold_bn, optimizer=args.optimizer,
              lineage=(inputs["fp32_sha256"], inputs))
    rec["data"] = {"folder": str(args.data), "split": "calibration pool", "data_sha256": data_hash,
                   **stats.to_dict()}
    print(f"QAT: {rec['steps']} step{'s' * (rec['steps'] != 1)} on {rec['images']} images, loss {rec['loss_first']:.4f} -> {rec['loss_last']:.4f}; "
          f"exported -> {out} (ORT vs PyTorch fake-quant: rel L2 {rec['export_check']['rel_l2_vs_torch_fakequant']:.1e})")
    wd.record("qat", "int8_qat", rec, inputs=inputs)
    return rec


# --- The recorded study: python -m demos.resnet50.qat -------------------------------------------------------

def _study_main(argv=None) -> None:
    from demos import files, provenance

    p = common.OneLineParser(prog="python -m demos.resnet50.qat",
                             description="PTQ vs QAT on EfficientNet-Lite0 (real weights), recorded as JSON")
    p.add_argument("--out", type=Path, required=True, help="result JSON (written atomically)")
    p.add_argument("--data", type=Path, default=data.SAMPLES)
    p.add_argument("--eval-count", type=common.positive_int, default=None, help="first N evaluation images (default all)")
    p.add_argument("--calib-count", type=common.positive_int, default=64, help="calibration images for PTQ (default 64)")
    p.add_argument("--weight-scales", choices=WEIGHT_SCALES, default="per-tensor-depthwise")
    p.add_argument("--no-fold-bn", action="store_true", help="keep BatchNorm separate (default: fold it)")
    p.add_argument("--epochs", type=common.positive_int, default=4, help="passes over the images (default 4)")
    p.add_argument("--batch", type=common.positive_int, default=16, help="images per training step (default 16)")
    p.add_argument("--lr", type=common.positive_float, default=1e-5, help="initial learning rate (default 1e-5)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="adam")
    a = p.parse_args(argv)
    if a.out.suffix != ".json" or a.out.is_dir():
        raise UserError(f"--out must name a .json file, got {a.out}")
    if not a.data.is_dir():
        raise UserError(f"image folder {a.data} not found; pass --data FOLDER")
    _, spec = models.build("efficientnet_lite0", "pretrained")
    items = data.discover(a.data)
    train_items = data.split(items, "calibration")
    eval_items = data.split(items, "evaluation", a.eval_count, strict=a.eval_count is not None)
    if a.calib_count > len(train_items):
        raise UserError(f"--calib-count {a.calib_count}: the calibration pool has only {len(train_items)} images")
    train = data.load_array(train_items, spec.preprocess, progress="training images")
    evaluation = data.load_array(eval_items, spec.preprocess, progress="evaluation images")
    rec, _, arrays = study("efficientnet_lite0", "pretrained", train, evaluation, a.weight_scales,
                           not a.no_fold_bn, a.calib_count, a.epochs, a.batch, a.lr, a.optimizer)
    rec["losses"] = [round(float(v), 6) for v in arrays["losses"]]
    rec["data"] = {"folder": str(a.data), "train": "calibration pool (all)", "evaluation": "evaluation pool",
                   "train_sha256": data.data_hash(train_items), "eval_sha256": data.data_hash(eval_items)}
    rec["command"] = "python -m demos.resnet50.qat " + " ".join(argv if argv is not None else __import__("sys").argv[1:])
    rec["provenance"] = provenance.collect(gpu=False)
    files.write_json(a.out, rec)
    m = rec["metrics"]
    print(f"top-1 on {rec['eval_images']} images: FP32 {m['fp32']['top1']:.2%}, PTQ {m['ptq']['top1']:.2%}, "
          f"QAT {m['qat']['top1']:.2%} -> {a.out}")


if __name__ == "__main__":
    from demos.errors import run_cli

    raise SystemExit(run_cli(_study_main))
