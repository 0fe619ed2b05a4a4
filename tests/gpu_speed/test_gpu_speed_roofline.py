"""ResNet50 counts from forward hooks, checked against independent figures, and the roofline arithmetic."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from demos.gpu_speed import roofline


@pytest.fixture(scope="module")
def resnet50_layers():
    return roofline.count_layers()


def test_resnet50_work_matches_torchvision_metadata(resnet50_layers):
    from torchvision.models import ResNet50_Weights

    meta = ResNet50_Weights.IMAGENET1K_V1.meta  # torchvision's own count ("_ops" is GMACs), no download
    macs = sum(layer.macs for layer in resnet50_layers)
    params = sum(layer.params for layer in resnet50_layers)
    assert macs / 1e9 == pytest.approx(meta["_ops"], abs=5e-4)
    assert params == meta["num_params"]
    assert sum(layer.flops for layer in resnet50_layers) == 2 * macs


def test_resnet50_layer_inventory(resnet50_layers):
    kinds = [layer.kind for layer in resnet50_layers]
    assert kinds.count("conv") == 53 and kinds.count("bn") == 53 and kinds.count("linear") == 1
    assert kinds.count("add") == 16  # 3 + 4 + 6 + 3 bottleneck blocks
    first = resnet50_layers[0]
    assert (first.kind, first.inputs, first.outputs) == ("conv", 3 * 224 * 224, 64 * 112 * 112)


def test_hooks_count_a_small_model_by_hand():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.ReLU(), nn.Conv2d(8, 16, 1, groups=2),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    layers = roofline.count_layers(model, image_size=8)
    by_kind = {layer.kind: layer for layer in layers}
    plain, grouped = [layer for layer in layers if layer.kind == "conv"]
    assert plain.macs == 8 * 8 * 8 * 3 * 3 * 3 and plain.params == 8 * 3 * 3 * 3
    assert grouped.macs == 16 * 8 * 8 * (8 // 2)
    assert grouped.params == 16 * 4 + 16
    assert by_kind["linear"].macs == 10 * 16
    assert by_kind["avgpool"].inputs == 16 * 8 * 8 and by_kind["avgpool"].outputs == 16


def test_traffic_scales_with_element_size_and_batch(resnet50_layers):
    for model in ("fused", "unfused"):
        one = roofline.traffic(resnet50_layers, 1, 256, model)
        two = roofline.traffic(resnet50_layers, 2, 256, model)
        assert two.bytes == pytest.approx(2 * one.bytes)
        assert two.intensity == pytest.approx(one.intensity / 2)
    fused = roofline.traffic(resnet50_layers, 2, 256, "fused")
    unfused = roofline.traffic(resnet50_layers, 2, 256, "unfused")
    assert fused.flops == unfused.flops
    assert fused.bytes < unfused.bytes / 2  # fusing BN, ReLU and the add removes most of the traffic
    small = roofline.traffic(resnet50_layers, 2, 1, "fused")
    assert small.weight_bytes == pytest.approx(256 * fused.weight_bytes)
    assert small.bytes - small.weight_bytes == pytest.approx(fused.bytes - fused.weight_bytes)
    with pytest.raises(ValueError):
        roofline.traffic(resnet50_layers, 2, 0)
    with pytest.raises(ValueError):
        roofline.traffic(resnet50_layers, 2, 8, "magic")


def test_layer_intensities_cover_every_conv_and_linear(resnet50_layers):
    rows = roofline.layer_intensities(resnet50_layers, 2, 256)
    assert len(rows) == 54
    assert sum(r[1] for r in rows) == sum(layer.flops for layer in resnet50_layers)
    assert all(r[2] > 0 for r in rows)


positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(peak=positive, bandwidth=positive, intensity=positive, factor=st.floats(1.0, 100.0))
def test_attainable_is_the_lower_roof_and_monotone(peak, bandwidth, intensity, factor):
    reach = roofline.attainable(peak, bandwidth, intensity)
    assert reach <= peak * (1 + 1e-12) and reach <= intensity * bandwidth * (1 + 1e-12)
    assert math.isclose(reach, peak) or math.isclose(reach, intensity * bandwidth)
    assert roofline.attainable(peak, bandwidth, intensity * factor) >= reach
    ridge = roofline.ridge_point(peak, bandwidth)
    assert roofline.bound(ridge * 1.01, peak, bandwidth) == "compute-bound"
    assert roofline.bound(ridge * 0.99, peak, bandwidth) == "memory-bound"


def test_attainable_rejects_non_positive_inputs():
    with pytest.raises(ValueError):
        roofline.attainable(0, 1, 1)
    with pytest.raises(ValueError):
        roofline.attainable(1, 1, -1)


def test_count_layers_leaves_no_hooks_behind():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    roofline.count_layers(model, image_size=8)
    assert all(not m._forward_hooks for m in model.modules())
