"""fit_parallel: worker processes train what the calling process would, and bad calls fail clearly."""

import numpy as np
import pytest
import torch

from kplearn.data.synthetic import make_faces
from kplearn.train import DeepLocaliser
from kplearn.train.parallel import default_workers, fit_parallel


@pytest.fixture(scope="module")
def faces():
    data = make_faces(40, image_size=64, seed=3)
    return data[:32], data[32:]


def _locs(seeds=(0, 1)):
    return [DeepLocaliser("regression", "faces68", preset="fast", seed=s, train={"batch_size": 8})
            for s in seeds]  # fmt: skip


def test_workers_train_what_this_process_trains(faces):
    train, val = faces
    old = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread here too: the same arithmetic as a one-thread worker
    try:
        here = fit_parallel(_locs(), train, val, workers=1, epochs=2)
    finally:
        torch.set_num_threads(old)
    there = fit_parallel(_locs(), train, val, workers=2, epochs=2)
    assert [loc.seed for loc in there] == [0, 1]  # the order given, each with its own seed
    images = [s.image for s in val]
    for a, b in zip(here, there, strict=True):
        assert len(b.history.epochs) == 2 and b.fit_seconds > 0
        np.testing.assert_allclose(b.history.epochs[-1]["val"]["nme"], a.history.epochs[-1]["val"]["nme"],
                                   rtol=1e-5)  # fmt: skip
        np.testing.assert_allclose(b.predict(images), a.predict(images), atol=1e-3)
    # the two seeds are two different networks, not one trained twice
    assert not np.allclose(here[0].predict(images), here[1].predict(images))


def test_default_workers_follow_torch_threads():
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert default_workers() == 1
        torch.set_num_threads(2)
        assert default_workers() == 2
    finally:
        torch.set_num_threads(old)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_bad_worker_counts(faces, workers):
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        fit_parallel(_locs(), *faces, workers=workers, epochs=1)


def test_bad_localisers(faces):
    with pytest.raises(ValueError, match="localiser 1 is a str"):
        fit_parallel([_locs()[0], "heatmap"], *faces, workers=1, epochs=1)
    trained = fit_parallel(_locs((0,)), *faces, workers=1, epochs=1)
    with pytest.raises(ValueError, match="localiser 0 .*already trained"):
        fit_parallel(trained, *faces, workers=1, epochs=1)


def test_seed_is_not_a_fit_argument(faces):
    with pytest.raises(ValueError, match="its own seed"):
        fit_parallel(_locs(), *faces, workers=1, epochs=1, seed=1)
