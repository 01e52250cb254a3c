"""What the codecs alone lose (kplearn.codecs.evaluation): heatmap decoding and PAF grouping on exact targets."""

import math

import numpy as np
import pytest

from kplearn.codecs.evaluation import decoding_errors, oracle_grouping
from kplearn.data.formats import dataset_to_coco, predictions_to_coco
from kplearn.data.synthetic import make_people_scenes


def test_decoding_errors_bounds_and_ordering():
    stride = 4
    err = decoding_errors(300, stride=stride, sigma=2.0, seed=0)
    # argmax can be off by at most half a heatmap pixel per axis.
    assert err["argmax"].max() <= stride / 2 * math.sqrt(2) + 1e-9
    # quarter offset at most halves the worst case; the sub-pixel decoders are near exact.
    assert err["quarter"].mean() < err["argmax"].mean()
    assert err["dark"].max() < 0.05 and err["softargmax"].max() < 0.05
    assert err["argmax"].mean() > 1.0  # uniform sub-pixel positions: ~0.38 stride on average


def test_decoding_errors_msra_targets_are_quantised():
    # MSRA targets are centred on a rounded heatmap pixel: every decoder finds that pixel,
    # so all decoders agree and the error is the rounding error alone (<= s/2 per axis).
    err = decoding_errors(200, stride=4, sigma=2.0, encoding="msra", seed=1)
    for method in ("quarter", "dark", "softargmax"):
        np.testing.assert_allclose(err[method], err["argmax"], atol=1e-6)
    assert err["argmax"].max() <= 2 * math.sqrt(2) + 1e-9
    # Decoding them with the unbiased inverse adds the (s - 1) / 2 = 1.5 px shift per axis.
    shifted = decoding_errors(200, stride=4, sigma=2.0, encoding="msra", decode_encoding="unbiased",
                                 methods=("argmax",), seed=1)  # fmt: skip
    assert shifted["argmax"].mean() > err["argmax"].mean() + 0.5


def test_decoding_errors_signed_offsets():
    kwargs = dict(n=300, stride=4, sigma=2.0, encoding="msra", seed=3)
    err = decoding_errors(**kwargs)
    off = decoding_errors(**kwargs, signed=True)
    for method, values in off.items():
        assert values.shape == (300, 2)
        np.testing.assert_allclose(np.linalg.norm(values, axis=-1), err[method])
    # Matched conventions: the rounding error averages out; mismatched: every point moves by
    # (s - 1) / 2 input pixels per axis (x = s x' for msra, x = s x' + (s - 1) / 2 unbiased).
    assert np.abs(off["argmax"].mean(axis=0)).max() < 0.25
    shifted = decoding_errors(**kwargs, decode_encoding="unbiased", signed=True)
    np.testing.assert_allclose(shifted["argmax"] - off["argmax"], 1.5, atol=1e-9)


def test_decoding_errors_noise_hurts_softargmax_most():
    err = decoding_errors(200, sigma=2.0, noise=0.05, seed=2)
    assert err["softargmax"].mean() > err["dark"].mean()


def test_decoding_errors_rejects_bad_input():
    with pytest.raises(ValueError, match="too large"):
        decoding_errors(10, input_size=(32, 32), sigma=3.0)
    with pytest.raises(ValueError, match="multiple"):
        decoding_errors(10, input_size=(130, 128))
    with pytest.raises(ValueError, match="sigma"):
        decoding_errors(10, sigma=0.0)
    with pytest.raises(ValueError, match="n must"):
        decoding_errors(0)


def test_oracle_grouping_recovers_the_people():
    from kplearn.metrics import coco_keypoint_eval

    scenes = make_people_scenes(4, image_size=128, seed=0, max_people=3)
    results = oracle_grouping(scenes, stride=2)
    assert len(results) == len(scenes)
    stats = coco_keypoint_eval(
        dataset_to_coco(scenes), predictions_to_coco(*zip(*results, strict=True))
    )
    assert stats["AP"] > 0.85
    # Noise on the maps can only make the grouping worse here.
    noisy = oracle_grouping(scenes, stride=2, noise=0.3, seed=0)
    assert (
        coco_keypoint_eval(dataset_to_coco(scenes), predictions_to_coco(*zip(*noisy, strict=True)))[
            "AP"
        ]
        < stats["AP"]
    )
