"""Stage ``eval``: top-1/top-5, agreement with FP32, and relative L2 error of the logits.

Backends:

``ort``   ONNX Runtime on CPU, the reference for numerics. A TensorRT Q/DQ model (FP32 weights behind Q/DQ)
          is run with basic graph optimizations only, i.e. as exact float emulation of the quantized math
          TensorRT performs; with all optimizations ORT would replace it by its own x86 integer kernels,
          whose u8 x s8 products saturate in int16 on CPUs without VNNI and can change the accuracy a lot
          (``--ort-optimization all`` shows it on such a CPU).
          The CPU INT8 forms (int8 weights) are run with all optimizations: that is their deployment.
``torch`` the original PyTorch model (FP32; on a GPU also FP16/BF16), as a cross-check of the export.
``trt``   TensorRT engines (``engines/*.plan``); needs TensorRT and a GPU.

Every model is compared with the FP32 ONNX model on ORT over the same images: top-1 agreement and
``||logits - logits_fp32|| / ||logits_fp32||``. Accuracy is reported only for real weights; for random
weights (pipeline checks) top-1/top-5 are left empty and the record says why.

Images are the evaluation pool of the folder (disjoint from the calibration pool, see :mod:`demos.data`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from demos import data, files, onnx_tools
from demos.errors import MissingRuntime, UserError
from demos.resnet50 import common, workdir
from demos.resnet50.workdir import Workdir

BACKENDS = ("ort", "torch", "trt")
NO_ACCURACY = "random weights: accuracy is meaningless and not reported (pipeline check only)"


@dataclass
class Metrics:
    top1: float | None
    top5: float | None
    agreement: float | None
    rel_l2: float | None
    images: int

    def to_dict(self) -> dict:
        return {"top1": self.top1, "top5": self.top5, "agreement_top1_with_fp32": self.agreement,
                "rel_l2_vs_fp32": self.rel_l2, "images": self.images}


def metrics(logits: np.ndarray, labels: np.ndarray, ref: np.ndarray | None, real_weights: bool) -> Metrics:
    top5 = np.argsort(-logits, axis=1)[:, :5]
    t1 = float((top5[:, 0] == labels).mean()) if real_weights else None
    t5 = float((top5 == labels[:, None]).any(axis=1).mean()) if real_weights else None
    agree = rel = None
    if ref is not None:
        agree = float((logits.argmax(1) == ref.argmax(1)).mean())
        rel = float(np.linalg.norm(logits - ref) / max(np.linalg.norm(ref), 1e-30))
    return Metrics(t1, t5, agree, rel, len(labels))


def is_trt_qdq(model) -> bool:
    """Q/DQ with float weights behind QuantizeLinear (ModelOpt's TensorRT form)."""
    inits = {i.name: i.data_type for i in model.graph.initializer}
    import onnx

    return any(n.op_type == "QuantizeLinear" and inits.get(n.input[0]) in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)
               for n in model.graph.node)


def ort_logits(path, batches, optimization: str = "auto", threads: int | None = None) -> tuple[np.ndarray, str]:
    model = onnx_tools.load(path)
    if optimization == "auto":
        optimization = "basic" if is_trt_qdq(model) else "all"
    sess = onnx_tools.session(path, threads=threads, optimization=optimization)
    return np.concatenate([onnx_tools.run(sess, x) for x in batches]), optimization


def torch_logits(spec, batches, device: str = "cpu", dtype: str = "fp32") -> np.ndarray:
    import torch

    from demos import models

    model, now = models.build(spec.name, spec.weights)
    if spec.weights_sha256 and now.weights_sha256 != spec.weights_sha256:
        raise UserError(f"the weights {spec.weights} changed since the model was exported; export it again")
    dt = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
    model = model.to(device=device, dtype=dt)
    out = []
    with torch.inference_mode():
        for x in batches:
            out.append(model(torch.from_numpy(x).to(device=device, dtype=dt)).float().cpu().numpy())
    return np.concatenate(out)


def _eval_images(items, spec, stats, batch: int):
    """Preprocess once; every model sees exactly the same arrays."""
    parts = list(data.batches(items, spec.preprocess, batch, stats, progress="eval images"))
    if not parts:
        raise UserError(f"none of the {len(items)} evaluation image(s) could be read")
    return [p[0] for p in parts], np.concatenate([p[1] for p in parts])


def reference_logits(fp32_path, wd: Workdir, xs, data_hash: str) -> np.ndarray:
    """FP32 ORT logits, cached by model hash + data hash + ORT version."""
    import onnxruntime

    key = {"onnx_sha256": files.sha256_file(fp32_path), "data_sha256": data_hash, "onnxruntime": onnxruntime.__version__}
    cache = wd.cache / f"fp32_logits_{data_hash[:12]}.npz"
    hit = files.load_cache(cache, key, rows={"logits": sum(len(x) for x in xs)})
    if hit is not None:
        return hit[0]["logits"]
    logits, _ = ort_logits(fp32_path, xs)
    files.save_cache(cache, key, {"logits": logits})
    return logits


def default_models(wd: Workdir) -> list[Path]:
    order = ["fp32", "fp16", "int8_max", "int8_entropy", "int8_percentile", "int8_mse", "int8_qat",
             "cpu_int8_trt_scales", "cpu_int8_best"]
    found = [wd.path(f"{n}.onnx") for n in order if wd.path(f"{n}.onnx").exists()]
    return found


def check_models(wd: Workdir, models: list[Path]):
    """The FP32 reference of the workdir and its hash, after checking that every model in ``models`` can be
    compared with it: the same model and weights, made from this very ``fp32.onnx``, taking its images and
    giving 1000 ImageNet logits. Raises a one-line :class:`UserError` before anything is evaluated or written."""
    fp32 = wd.path("fp32.onnx")
    ref_model = onnx_tools.load(fp32, "FP32 reference model")
    spec = onnx_tools.spec_of(ref_model, fp32)
    fp32_sha = files.sha256_file(fp32)
    for path in models:
        model = ref_model if Path(path).resolve() == fp32.resolve() else onnx_tools.load(path)
        mspec = onnx_tools.spec_of(model, path)
        if mspec.name != spec.name or mspec.weights != spec.weights:
            raise UserError(f"{path} is {mspec.name} ({mspec.weights}), but the workdir's FP32 model is "
                            f"{spec.name} ({spec.weights}); use one workdir per model")
        if model is not ref_model:
            workdir.check_lineage(path, model, fp32, fp32_sha)
        common.check_image_input(model, mspec, path)
        classes = _static_classes(model)
        if classes is not None and classes != NUM_CLASSES:
            raise UserError(f"{path} gives {classes} outputs per image, but the labels are ImageNet's "
                            f"{NUM_CLASSES} classes; evaluate an ImageNet classifier")
    return fp32, spec, fp32_sha


NUM_CLASSES = 1000


def _static_classes(model) -> int | None:
    dims = model.graph.output[0].type.tensor_type.shape.dim
    if len(dims) == 2 and dims[1].HasField("dim_value"):
        return dims[1].dim_value
    return None


def evaluate(wd: Workdir, models: list[Path], items, backends=("ort",), batch: int = 32,
             threads: int | None = None, optimization: str = "auto") -> list[dict]:
    fp32, spec, fp32_sha = check_models(wd, models)
    stats = data.LoadStats()
    xs, labels = _eval_images(items, spec, stats, batch)
    data_hash = data.data_hash(items)
    ref = reference_logits(fp32, wd, xs, data_hash)
    if ref.ndim != 2 or ref.shape[1] != NUM_CLASSES:
        raise UserError(f"{fp32} gives outputs of shape {list(ref.shape)[1:]} per image, but the labels are "
                        f"ImageNet's {NUM_CLASSES} classes; evaluate an ImageNet classifier")
    dataset = {"folder": str(Path(items[0].path).parent), "split": f"evaluation pool (not {data.SPLIT_RULE})",
               "requested": len(items), "data_sha256": data_hash, **stats.to_dict()}
    results = []
    from tqdm.auto import tqdm

    jobs = [(m, b) for m in models for b in backends]
    for path, backend in tqdm(jobs, desc="eval models", unit="model", leave=False):
        name = Path(path).stem
        model = onnx_tools.load(path)
        t0 = time.perf_counter()
        detail = {}
        if backend == "ort":
            logits, opt = ort_logits(path, xs, optimization, threads)
            detail["ort_graph_optimization"] = opt
            detail["execution"] = ("Q/DQ emulated in float (TensorRT numerics)" if opt == "basic" and is_trt_qdq(model)
                                   else "ONNX Runtime CPU kernels")
        elif backend == "torch":
            if name != "fp32":
                continue  # the PyTorch backend runs the source model, which only the FP32 export mirrors
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
            logits = torch_logits(spec, xs, device)
            detail["device"] = device
        else:
            from demos.trt import runtime

            engine = wd.engines / f"{name}.trt.plan"
            if not engine.exists():
                print(f"skipped trt {name}: no engine {engine} (run the build stage on a machine with TensorRT)")
                continue
            logits = runtime.run_engine_batches(engine, xs)
        if logits.shape != ref.shape:
            raise UserError(f"{path} gave logits of shape {list(logits.shape)}, the FP32 model {list(ref.shape)}; "
                            f"evaluate an ImageNet classifier with {NUM_CLASSES} outputs")
        m = metrics(logits, labels, ref, spec.real_weights)
        model_sha = files.sha256_file(path)
        inputs = {"fp32_sha256": fp32_sha, "model_sha256": model_sha, "data_sha256": data_hash, "backend": backend,
                  "ort_graph_optimization": detail.get("ort_graph_optimization"), "batch": batch}
        rec = {"model_file": str(path), "variant": name, "backend": backend, "model": spec.name,
               "weights": spec.weights_label, "real_weights": spec.real_weights, "model_sha256": model_sha,
               **m.to_dict(), "seconds": round(time.perf_counter() - t0, 2), "dataset": dataset, **detail}
        if not spec.real_weights:
            rec["accuracy_note"] = NO_ACCURACY
        results.append(rec)
        wd.record("eval", f"{name}_{backend}", rec, inputs=inputs)
        acc = (f"top-1 {100 * m.top1:5.2f}%  top-5 {100 * m.top5:5.2f}%" if m.top1 is not None
               else "top-1 n/a (random weights)")
        print(f"{name:22s} {backend:5s} {acc}  agreement {100 * m.agreement:6.2f}%  rel L2 {m.rel_l2:.2e}  "
              f"({m.images} images)")
    return results


def add_arguments(p) -> None:
    p.add_argument("--models", nargs="+", type=Path,
                   help="ONNX files (default: every model the stages wrote into WORKDIR)")
    p.add_argument("--backend", nargs="+", default=["ort"], choices=BACKENDS)
    p.add_argument("--batch", type=common.positive_int, default=32, help="images per inference call (default 32)")
    p.add_argument("--threads", type=common.positive_int, default=None,
                   help="ONNX Runtime intra-op threads (default: ONNX Runtime's choice, one per core)")
    p.add_argument("--ort-optimization", choices=("auto", "basic", "all"), default="auto",
                   help="auto: basic (float emulation) for TensorRT Q/DQ models, all otherwise")
    common.add_data_arguments(p, evaluation=True)


def run(args) -> list[dict]:
    wd = Workdir(args.workdir)
    models = [Path(m) if Path(m).suffix == ".onnx" else wd.path(f"{m}.onnx") for m in args.models] if args.models \
        else default_models(wd)
    if not models:
        raise UserError(f"no ONNX models in {wd.root}; run `python -m demos.resnet50 export` first")
    if "trt" in args.backend:
        from demos.trt import runtime

        reason = runtime.unavailable_reason()
        if reason:
            if args.backend == ["trt"]:
                raise MissingRuntime(f"the trt backend needs TensorRT and a GPU: {reason}")
            print(f"skipped backend trt: {reason}")
            args.backend = [b for b in args.backend if b != "trt"]
    check_models(wd, models)  # before the images are read: a mixed workdir is refused at once
    return evaluate(wd, models, common.evaluation_items(args), args.backend, args.batch, args.threads,
                    args.ort_optimization)
