"""What predict(..., return_outputs=True) reports besides the keypoints: cascade stages and heatmaps."""

import numpy as np
import pytest

from kplearn.codecs import decode_heatmaps
from kplearn.codecs.refine import blur_kernel_for
from kplearn.data.synthetic import make_faces
from kplearn.models import build_model
from kplearn.train import predict
from kplearn.train.predict import uncrop


def test_stage_keypoints_count_the_stages_and_end_at_the_prediction():
    faces = make_faces(3, image_size=80, seed=1)
    images = [s.image for s in faces]
    net = build_model("cascade", "faces68", preset="fast", input_size=(64, 64), stages=3)
    kp, out = predict(net, images, flip_test=False, return_outputs=True)
    stages = out["stage_keypoints"]
    assert len(stages) == 3 and all(s.shape == (3, 68, 2) for s in stages)
    np.testing.assert_allclose(stages[-1], kp[..., :2], atol=1e-4)
    # The first stage alone is the plain regressor inside the cascade: a different answer.
    assert not np.allclose(stages[0], stages[-1])
    reg = build_model("regression", "faces68", preset="fast")
    assert "stage_keypoints" not in predict(reg, images, flip_test=False, return_outputs=True)[1]


def test_heatmap_outputs_decode_to_the_prediction():
    faces = make_faces(2, image_size=80, seed=2)
    images = [s.image for s in faces]
    net = build_model("heatmap", "faces68", preset="fast")
    kp, out = predict(net, images, flip_test=False, return_outputs=True)
    maps = out["heatmaps"]
    assert maps.shape == (2, 68, 16, 16) and maps.dtype == np.float64
    kernel = blur_kernel_for(float(net.config.get("sigma", 2.0)))
    decoded = {m: uncrop(decode_heatmaps(maps, net.input_size, method=m, blur_kernel=kernel)[0], out["matrices"])
               for m in ("argmax", "dark")}  # fmt: skip
    # predict() decodes with the torch twin of DARK: the same keypoints, by another code path.
    np.testing.assert_allclose(decoded["dark"], kp[..., :2], atol=1e-3)
    # argmax lands on a heatmap pixel centre: x' = (x + 0.5) * 64 / 80 / 4 - 0.5 is an integer.
    xh = (decoded["argmax"] + 0.5) * 64 / 80 / 4 - 0.5
    np.testing.assert_allclose(xh, np.round(xh), atol=1e-9)
    with pytest.raises(KeyError):
        predict(build_model("regression", "faces68", preset="fast"), images, return_outputs=True)[
            1
        ]["heatmaps"]
