import re

import numpy as np
import pytest

from kplearn.skeletons import (
    COCO17,
    FACES68,
    Skeleton,
    faces68_to_faces5,
    get_skeleton,
    list_skeletons,
    register_skeleton,
)


def test_registry_has_the_shipped_layouts():
    assert {"coco17", "faces68", "faces5"} <= set(list_skeletons())
    assert get_skeleton("coco17") is COCO17
    with pytest.raises(KeyError, match="unknown skeleton 'nope'"):
        get_skeleton("nope")


def test_coco17_matches_the_coco_definition():
    assert COCO17.num_keypoints == 17
    assert COCO17.keypoint_names[0] == "nose" and COCO17.keypoint_names[-1] == "right_ankle"
    # COCO's annotation file lists 19 skeleton edges.
    assert len(COCO17.edges) == 19
    # Published COCO sigmas: shoulders .079, hips .107.
    assert COCO17.sigma_array[5] == pytest.approx(0.079)
    assert COCO17.sigma_array[11] == pytest.approx(0.107)


@pytest.mark.parametrize("layout", ["coco17", "faces68", "faces5"])
def test_flip_index_is_an_involution_that_swaps_left_and_right(layout):
    sk = get_skeleton(layout)
    flip = sk.flip_index
    np.testing.assert_array_equal(flip[flip], np.arange(sk.num_keypoints))

    def region(n):  # faces68 names end in an index along the contour
        return re.sub(r"_\d+$", "", n)

    for i, name in enumerate(sk.keypoint_names):
        name, partner = region(name), region(sk.keypoint_names[flip[i]])
        if "left" in name:
            assert partner == name.replace("left", "right")
        elif "right" in name:
            assert partner == name.replace("right", "left")


def test_faces68_flip_pairs_follow_ibug_order():
    flip = FACES68.flip_index
    assert flip[36] == 45 and flip[0] == 16 and flip[48] == 54 and flip[31] == 35
    # The midline points map to themselves.
    for i in (8, 27, 28, 29, 30, 33, 51, 57, 62, 66):
        assert flip[i] == i
    assert len(FACES68.flip_pairs) == 29


def test_faces68_to_faces5_by_hand():
    kp = np.zeros((2, 68, 3))
    kp[..., 2] = 2
    kp[:, 36:42, 0] = np.arange(6)  # mean x of right eye = 2.5
    kp[:, 42:48, 1] = 4.0
    kp[:, 30] = (7, 8, 2)
    kp[:, 48] = (1, 2, 1)
    kp[:, 54] = (3, 4, 2)
    kp[1, 40, 2] = 0  # one unlabelled eye point makes the derived eye centre unlabelled
    out = faces68_to_faces5(kp)
    assert out.shape == (2, 5, 3)
    np.testing.assert_allclose(out[0, 0], [2.5, 0, 2])
    np.testing.assert_allclose(out[0, 1], [0, 4, 2])
    np.testing.assert_allclose(out[0, 2], [7, 8, 2])
    np.testing.assert_allclose(out[0, 3], [1, 2, 1])
    assert out[1, 0, 2] == 0 and out[1, 1, 2] == 2


def test_bad_layouts_are_refused():
    with pytest.raises(ValueError, match="not unique"):
        Skeleton("x", ("a", "a"))
    with pytest.raises(ValueError, match="out of range"):
        Skeleton("x", ("a", "b"), edges=((0, 2),))
    with pytest.raises(ValueError, match="more than one flip pair"):
        Skeleton("x", ("a", "b", "c"), flip_pairs=((0, 1), (1, 2)))
    with pytest.raises(ValueError, match="sigmas"):
        Skeleton("x", ("a", "b"), sigmas=(0.1,))
    with pytest.raises(ValueError, match="already registered"):
        register_skeleton(Skeleton("coco17", ("a",)))
    with pytest.raises(ValueError, match=r"expected shape \(\.\.\., 68"):
        faces68_to_faces5(np.zeros((67, 3)))


def _run(code: str) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_layout_resolves_after_importing_only_the_skeletons_module():
    # Every layout any kplearn module registers, found by importing the whole package ...
    everything = _run(
        "import importlib, pkgutil, kplearn\n"
        "for m in pkgutil.walk_packages(kplearn.__path__, 'kplearn.'):\n"
        "    importlib.import_module(m.name)\n"
        "from kplearn.skeletons import list_skeletons\n"
        "print(' '.join(list_skeletons()))\n"
    ).split()
    assert {"coco17", "mpii16", "faces68", "faces5", "knee6", "triangle3c", "checker3x3"} <= set(everything)
    # ... resolves in a fresh interpreter that imported kplearn.skeletons and nothing else of kplearn.
    out = _run(
        "import sys\n"
        "from kplearn.skeletons import get_skeleton\n"
        f"names = {everything!r}\n"
        "print(' '.join(f'{n}:{get_skeleton(n).num_keypoints}' for n in names))\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('kplearn'))))\n"
    ).splitlines()
    resolved = dict(item.split(":") for item in out[0].split())
    assert sorted(resolved) == sorted(everything)
    assert resolved["mpii16"] == "16" and resolved["knee6"] == "6" and resolved["star10c"] == "11"
    assert out[1].split() == ["kplearn", "kplearn.skeletons"]
