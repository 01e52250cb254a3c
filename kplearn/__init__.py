"""kplearn: keypoint detection from SIFT and HOG + SVM to heatmap CNNs.

Subpackages follow the path of a keypoint through the pipeline:

- :mod:`kplearn.skeletons` — layouts (names, edges, flip pairs, OKS sigmas)
- :mod:`kplearn.data` — synthetic and real data, file formats, transforms, datasets
- :mod:`kplearn.classical` — interest points; HOG + SVM, SDM and other classical localisers
- :mod:`kplearn.models` — CNN regression, heatmap and integral networks, PAF head
- :mod:`kplearn.codecs`, :mod:`kplearn.losses` — targets, decoders and training losses
- :mod:`kplearn.train` — fit / evaluate / predict and checkpoints
- :mod:`kplearn.metrics` — PCK, NME, OKS, COCO AP (pycocotools-exact)
- :mod:`kplearn.viz` — drawings and plots

:func:`kplearn.predict` (keypoints with a network, a localiser or a run directory) and
:func:`kplearn.predict_faces` (faces found in whole photographs, then their landmarks)
are :mod:`kplearn.train`'s, imported on first use.
"""

__version__ = "0.1.0"

_LAZY = ("predict", "predict_faces")


def __getattr__(name: str):
    """``kplearn.predict`` and ``kplearn.predict_faces``, imported on first use (torch is heavy)."""
    if name in _LAZY:
        from kplearn.train import runs

        return getattr(runs, name)
    raise AttributeError(f"module 'kplearn' has no attribute {name!r}")
