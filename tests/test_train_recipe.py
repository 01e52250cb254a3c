"""Tests for the training-recipe switches of fit: bf16 autocast, memory format, compile, prefetch."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from kplearn.data.synthetic import make_faces
from kplearn.models import build_model
from kplearn.train import fit
from kplearn.train.recipe import BatchSource, bf16_supported, outputs_to_float, resolve_recipe

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def faces():
    return make_faces(12, image_size=64, seed=1)


def _train(faces, **kwargs):
    net = build_model("heatmap", "faces68", preset="fast", input_size=(64, 64), seed=0)
    hist = fit(net, faces[:8], faces[8:], epochs=2, batch_size=4, progress=False, seed=0, **kwargs)
    return net, hist


def test_default_recipe_is_recorded(faces):
    _, hist = _train(faces)
    assert hist.recipe == {"precision": "fp32", "channels_last": True, "compile": False,
                           "prefetch": False}  # fmt: skip
    assert hist.train_seconds > 0
    assert hist.images_per_second == pytest.approx(hist.steps * 4 / hist.train_seconds)
    assert hist.to_dict()["recipe"]["precision"] == "fp32"


def test_prefetching_gives_the_same_run_bit_for_bit(faces):
    a, ha = _train(faces)
    b, hb = _train(faces, prefetch=True)
    assert hb.recipe["prefetch"] is True
    assert [e["train_loss"] for e in ha.epochs] == [e["train_loss"] for e in hb.epochs]
    sa, sb = a.state_dict(), b.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_batch_source_draws_in_the_same_order_with_and_without_a_thread():
    def make(idx, gen):
        return idx.tolist(), float(gen.random())

    seqs = []
    for prefetch in (False, True):
        src = BatchSource(10, 3, 3, np.random.default_rng(5), make, prefetch=prefetch)
        seq = []
        for _ in range(3):
            src.start_epoch()
            seq += [src.get(b) for b in range(3)]
        src.close()
        seqs.append(seq)
    assert seqs[0] == seqs[1]
    assert len({tuple(s[0]) for s in seqs[0]}) > 3  # the epochs are reshuffled


def test_batch_source_hands_a_worker_error_to_the_caller():
    def broken(idx, gen):
        raise RuntimeError("augmentation failed")

    src = BatchSource(4, 2, 2, np.random.default_rng(0), broken, prefetch=True)
    src.start_epoch()
    with pytest.raises(RuntimeError, match="augmentation failed"):
        src.get(0)
    src.close()


def test_contiguous_format_can_be_forced(faces):
    net, hist = _train(faces, channels_last=False)
    assert hist.recipe["channels_last"] is False
    conv = net.encoder.stem[0].weight
    assert conv.is_contiguous() and not conv.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.skipif(not bf16_supported("cpu"), reason="this CPU has no native bf16 (oneDNN)")
def test_bf16_autocast_trains_and_is_close_to_fp32(faces):
    _, h32 = _train(faces)
    _, h16 = _train(faces, precision="bf16")
    assert h16.recipe["precision"] == "bf16"
    l32 = [e["train_loss"] for e in h32.epochs]
    l16 = [e["train_loss"] for e in h16.epochs]
    assert np.all(np.isfinite(l16))
    assert l16 != l32  # it really ran in another precision
    np.testing.assert_allclose(l16, l32, rtol=0.1)


def test_outputs_are_cast_back_to_fp32_for_the_loss():
    out = {"a": torch.zeros(2, dtype=torch.bfloat16), "b": [torch.ones(1, dtype=torch.bfloat16)],
           "i": torch.zeros(1, dtype=torch.long)}  # fmt: skip
    f = outputs_to_float(out)
    assert f["a"].dtype == torch.float32 and f["b"][0].dtype == torch.float32
    assert f["i"].dtype == torch.long


def test_bad_recipe_values_are_refused():
    with pytest.raises(ValueError, match="precision"):
        resolve_recipe("cpu", precision="half")
    with pytest.raises(ValueError, match="compile must be True or False"):
        resolve_recipe("cpu", compile="yes")
    with pytest.raises(ValueError, match="channels_last"):
        resolve_recipe("cpu", channels_last=1)


def test_unsupported_bf16_falls_back_with_a_warning():
    with pytest.warns(UserWarning, match="not supported on meta"):
        r = resolve_recipe("meta", precision="bf16")
    assert r["precision"] == "fp32"


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("KPLEARN_TEST_COMPILE"),
    reason="torch.compile of a training step takes minutes on 2 cores; set KPLEARN_TEST_COMPILE=1",
)
def test_compiled_training_matches_eager_closely(faces):
    _, eager = _train(faces)
    _, comp = _train(faces, compile=True)
    assert comp.recipe["compile"] is True
    np.testing.assert_allclose([e["train_loss"] for e in comp.epochs],
                               [e["train_loss"] for e in eager.epochs], rtol=1e-3)  # fmt: skip
