"""Part affinity fields (the OpenPose idea, small): their targets and the greedy grouping.

A bottom-up network looks at a whole image with several people and predicts,
at stride ``s``:

- ``K`` heatmaps with a peak at *every* person's keypoint of each type, and
- for each skeleton edge ``(a, b)`` a 2-channel *part affinity field*: on the
  limb from ``a`` to ``b`` of any person it holds the unit vector pointing from
  ``a`` to ``b``, elsewhere zero (Cao et al., CVPR 2017).

Encoding: :func:`paf_targets` (torch, a batch) and :func:`encode_targets` (numpy,
one image: heatmaps and fields). Decoding: :func:`group_people` turns peaks
(:func:`find_peaks`) into people: every candidate pair of peaks of an edge is
scored by the mean agreement between the field sampled along the segment and
the segment's direction (:func:`limb_agreement`); pairs are accepted greedily by score (each peak used
once per edge), and accepted pairs that share a peak are joined into people.
Both use the unbiased grid of :mod:`kplearn.codecs.coordinates`. The network
is :class:`kplearn.models.paf.PAFNet`.

Examples
--------
>>> import numpy as np
>>> edges = ((0, 1), (1, 2))
>>> people = np.array([[[8, 8, 2], [8, 24, 2], [8, 40, 2]],
...                    [[40, 8, 2], [40, 24, 2], [40, 40, 2]]], float)
>>> hm, paf = encode_targets(people, (64, 64), (16, 16), edges, sigma=1.0, paf_width=1.0)
>>> found, scores = group_people(hm, paf, edges, (64, 64))
>>> sorted(found[:, 0, 0].round().tolist()), found[0, :, 2].tolist()
([8.0, 40.0], [2.0, 2.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from kplearn.codecs.coordinates import heatmap_to_input, input_to_heatmap
from kplearn.codecs.torch_ops import encode_heatmaps_torch

__all__ = [
    "paf_targets", "encode_targets", "find_peaks", "limb_agreement", "group_people", "paf_flip_map",
]  # fmt: skip


def paf_targets(
    keypoints: torch.Tensor,
    input_size: tuple[int, int],
    heatmap_size: tuple[int, int],
    edges: Sequence[tuple[int, int]],
    width: float = 1.0,
) -> torch.Tensor:
    """Part affinity field targets ``(N, 2E, H', W')`` for a batch of people ``(N, M, K, 3)``.

    A heatmap pixel belongs to the limb ``a -> b`` of a person when its projection on
    the segment falls within the segment and it is at most ``width`` heatmap pixels
    from it; there the field is the unit vector from ``a`` to ``b`` (x channel, then y),
    averaged over the people whose limbs overlap. Limbs with an unlabelled end or of
    zero length are skipped.
    """
    wh, hh = heatmap_size
    e = torch.as_tensor(np.asarray(edges, dtype=np.int64).reshape(-1, 2), device=keypoints.device)
    xy = input_to_heatmap(keypoints[..., :2], tuple(input_size), (wh, hh), "unbiased")
    pa, pb = xy[:, :, e[:, 0]], xy[:, :, e[:, 1]]  # (N, M, E, 2)
    ok = (keypoints[:, :, e[:, 0], 2] > 0) & (keypoints[:, :, e[:, 1], 2] > 0)
    d = pb - pa
    length = d.norm(dim=-1)
    ok = ok & (length > 1e-6)
    u = d / length.clamp_min(1e-6)[..., None]
    gy, gx = torch.meshgrid(
        torch.arange(hh, dtype=xy.dtype, device=xy.device),
        torch.arange(wh, dtype=xy.dtype, device=xy.device),
        indexing="ij",
    )
    rx = gx - pa[..., 0, None, None]  # (N, M, E, H, W)
    ry = gy - pa[..., 1, None, None]
    along = rx * u[..., 0, None, None] + ry * u[..., 1, None, None]
    across = (rx * u[..., 1, None, None] - ry * u[..., 0, None, None]).abs()
    on = (along >= 0) & (along <= length[..., None, None]) & (across <= width) & ok[..., None, None]
    on = on.to(xy.dtype)
    count = on.sum(1).clamp_min(1.0)  # (N, E, H, W)
    fx = (on * u[..., 0, None, None]).sum(1) / count
    fy = (on * u[..., 1, None, None]).sum(1) / count
    return torch.stack([fx, fy], 2).flatten(1, 2)


def encode_targets(
    people: np.ndarray,
    input_size: tuple[int, int],
    heatmap_size: tuple[int, int],
    edges: Sequence[tuple[int, int]],
    sigma: float = 1.5,
    paf_width: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Heatmaps ``(K, H', W')`` and fields ``(2E, H', W')`` for the people ``(M, K, 3)`` of one image.

    The heatmaps are unbiased Gaussian targets (:func:`~kplearn.codecs.encode_heatmaps`)
    merged over the people with a pixel-wise maximum; the fields are :func:`paf_targets`.
    """
    kp = torch.as_tensor(np.asarray(people, np.float64))
    hm, _ = encode_heatmaps_torch(kp, tuple(input_size), tuple(heatmap_size), sigma,
                                  "unbiased", kp.dtype)  # fmt: skip
    paf = paf_targets(kp[None], input_size, heatmap_size, edges, paf_width)
    return hm.amax(dim=0).numpy(), paf[0].numpy()


def paf_flip_map(
    edges: Sequence[tuple[int, int]], flip_index: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """For each edge, the edge it becomes under a horizontal flip and the sign of its direction.

    Mirroring swaps left and right, so the limb ``a -> b`` is seen as
    ``flip(a) -> flip(b)``; when the skeleton lists that edge as ``(flip(b), flip(a))``
    the field points the other way (sign -1).
    """
    pairs = [tuple(int(v) for v in e) for e in edges]
    lookup = {p: i for i, p in enumerate(pairs)}
    index, sign = np.zeros(len(pairs), np.int64), np.ones(len(pairs))
    for i, (a, b) in enumerate(pairs):
        fa, fb = int(flip_index[a]), int(flip_index[b])
        if (fa, fb) in lookup:
            index[i] = lookup[(fa, fb)]
        elif (fb, fa) in lookup:
            index[i], sign[i] = lookup[(fb, fa)], -1.0
        else:
            raise ValueError(f"edge ({a}, {b}) has no mirror edge ({fa}, {fb}) in the skeleton")
    return index, sign


def find_peaks(heatmap: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """Local maxima (3×3) of one map above ``threshold``: ``(P, 3)`` rows ``x, y, value`` in map pixels.

    Each peak gets a sub-pixel offset per axis from a parabola through the logarithms
    of the peak and its two neighbours (exact for a Gaussian peak), clipped to
    half a pixel.
    """
    h = np.asarray(heatmap, np.float64)
    pad = np.pad(h, 1, constant_values=-np.inf)
    neigh = np.stack([pad[1 + dy : 1 + dy + h.shape[0], 1 + dx : 1 + dx + h.shape[1]]
                      for dy in (-1, 0, 1) for dx in (-1, 0, 1)])  # fmt: skip
    is_peak = (h >= neigh.max(0)) & (h > threshold)
    ys, xs = np.nonzero(is_peak)
    logh = np.log(np.pad(np.clip(h, 1e-10, None), 1, constant_values=1e-10))
    out = []
    for y, x in zip(ys, xs, strict=True):
        offsets = []
        for dy, dx in ((0, 1), (1, 0)):
            lo, c, hi = (
                logh[1 + y - dy, 1 + x - dx],
                logh[1 + y, 1 + x],
                logh[1 + y + dy, 1 + x + dx],
            )
            curv = lo - 2 * c + hi
            offsets.append(0.0 if curv >= 0 else float(np.clip(0.5 * (lo - hi) / curv, -0.5, 0.5)))
        out.append((x + offsets[0], y + offsets[1], float(h[y, x])))
    return np.array(out, np.float64).reshape(-1, 3)


def limb_agreement(field: np.ndarray, start, end, samples: int = 10) -> np.ndarray:
    """How well one limb's field agrees with candidate segments ``start -> end``, point by point.

    ``samples`` points are spread evenly from ``start`` to ``end`` (both included);
    at each, the field is read at the nearest map pixel (:func:`numpy.rint`, clipped
    to the map) and its dot product with the segment's unit direction is taken.
    On an exact limb of the same direction every value is 1; pointing the other way,
    -1; across the limb or off it, 0. A zero-length segment has no direction: all 0.
    The mean over the samples is OpenPose's association score of the pair
    (:func:`group_people` adds a length prior and a minimum fraction).

    Parameters
    ----------
    field : ndarray (2, H', W')
        One limb's part affinity field, x channel then y, in map pixels.
    start, end : array_like (..., 2)
        Segment ends ``(x, y)`` in map pixels; broadcast against each other.
    samples : int
        Points sampled on each segment (at least 1).

    Returns
    -------
    ndarray (..., samples)
        The agreement at each sampled point.

    Examples
    --------
    >>> import numpy as np
    >>> along_x = np.stack([np.ones((8, 8)), np.zeros((8, 8))])
    >>> limb_agreement(along_x, (1.0, 2.0), (6.0, 2.0), samples=3).tolist()
    [1.0, 1.0, 1.0]
    >>> limb_agreement(along_x, (6.0, 2.0), (1.0, 2.0)).mean(), limb_agreement(along_x, (2, 1), (2, 6)).mean()
    (np.float64(-1.0), np.float64(0.0))
    """
    f = np.asarray(field, np.float64)
    if f.ndim != 3 or f.shape[0] != 2:
        raise ValueError(f"field must be (2, H, W), got shape {f.shape}")
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    _, hh, wh = f.shape
    pa, pb = np.asarray(start, np.float64), np.asarray(end, np.float64)
    d = pb - pa
    length = np.hypot(d[..., 0], d[..., 1])
    u = d / np.maximum(length, 1e-9)[..., None]
    t = np.linspace(0.0, 1.0, samples)
    pts = pa[..., None, :] + t[:, None] * d[..., None, :]  # (..., S, 2)
    xi = np.clip(np.rint(pts[..., 0]).astype(int), 0, wh - 1)
    yi = np.clip(np.rint(pts[..., 1]).astype(int), 0, hh - 1)
    return f[0][yi, xi] * u[..., None, 0] + f[1][yi, xi] * u[..., None, 1]


def group_people(
    heatmaps: np.ndarray,
    pafs: np.ndarray,
    edges: Sequence[tuple[int, int]],
    input_size: tuple[int, int],
    *,
    peak_threshold: float = 0.1,
    samples: int = 10,
    min_agreement: float = 0.05,
    min_fraction: float = 0.7,
    min_keypoints: int = 3,
    max_peaks: int = 20,
    max_people: int = 20,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy part-affinity grouping of heatmap peaks into people.

    Parameters
    ----------
    heatmaps : ndarray (K, H', W')
    pafs : ndarray (2E, H', W')
        x then y channel per edge, in the order of ``edges``.
    edges : sequence of (a, b)
    input_size : (int, int)
        ``(width, height)`` of the network input; results are in input pixels.
    peak_threshold : float
        Minimum heatmap value of a peak.
    samples : int
        Points sampled on each candidate segment.
    min_agreement, min_fraction : float
        A candidate pair needs at least ``min_fraction`` of its samples with a
        field-direction agreement above ``min_agreement``, and a positive mean.
    min_keypoints : int
        People with fewer keypoints are dropped.
    max_peaks : int
        The strongest peaks kept per keypoint type (bounds the work on noisy maps).
    max_people : int
        The highest-scoring people returned (COCO scores at most 20 per image).

    Returns
    -------
    people : ndarray (M, K, 3)
        ``x, y`` in input pixels and ``v``: 2 where the person has that keypoint, 0
        where not (then ``x, y`` are 0, as COCO writes a missing keypoint; see
        "Keypoint arrays" in :mod:`kplearn.codecs`).
    scores : ndarray (M,)
        Mean peak value times the fraction of the skeleton's keypoints found.
    """
    hm = np.asarray(heatmaps, np.float64)
    paf = np.asarray(pafs, np.float64)
    k, hh, wh = hm.shape
    edge_arr = np.asarray(edges, np.int64).reshape(-1, 2)
    if paf.shape != (2 * len(edge_arr), hh, wh):
        raise ValueError(f"pafs: expected shape ({2 * len(edge_arr)}, {hh}, {wh}), got {paf.shape}")
    peaks = []
    for j in range(k):
        p = find_peaks(hm[j], peak_threshold)
        peaks.append(p[np.argsort(-p[:, 2], kind="stable")[:max_peaks]])

    # Candidate connections of every edge, accepted greedily by score.
    connections = []  # (edge, peak index a, peak index b, score)
    for e, (a, b) in enumerate(edge_arr):
        pa, pb = peaks[a][:, :2], peaks[b][:, :2]
        if not len(pa) or not len(pb):
            continue
        d = pb[None] - pa[:, None]  # (A, B, 2)
        length = np.hypot(d[..., 0], d[..., 1])
        agree = limb_agreement(paf[2 * e : 2 * e + 2], pa[:, None], pb[None], samples)  # (A, B, S)
        # OpenPose's length prior: limbs longer than half the map are penalised.
        with np.errstate(divide="ignore"):
            prior = np.minimum(0.0, 0.5 * hh / np.maximum(length, 1e-9) - 1.0)
        score = agree.mean(-1) + prior
        ok = (np.mean(agree > min_agreement, -1) >= min_fraction) & (score > 0) & (length > 1e-6)
        used_a, used_b = set(), set()
        cand = sorted(zip(score[ok].tolist(), *np.nonzero(ok), strict=True), reverse=True)
        for sc, i, j in cand:
            if i not in used_a and j not in used_b:
                used_a.add(int(i))
                used_b.add(int(j))
                connections.append((e, int(i), int(j), sc))

    # Join connections that share a peak into people (merging two people when they do not clash).
    people: list[dict[int, int]] = []  # keypoint -> peak index
    owner: dict[tuple[int, int], int] = {}  # (keypoint, peak) -> person
    for e, i, j, _ in sorted(connections, key=lambda c: -c[3]):
        a, b = int(edge_arr[e, 0]), int(edge_arr[e, 1])
        pa, pb = owner.get((a, i)), owner.get((b, j))
        if pa is None and pb is None:
            people.append({a: i, b: j})
            owner[(a, i)] = owner[(b, j)] = len(people) - 1
        elif pa is not None and pb is None:
            if b not in people[pa]:
                people[pa][b] = j
                owner[(b, j)] = pa
        elif pa is None and pb is not None:
            if a not in people[pb]:
                people[pb][a] = i
                owner[(a, i)] = pb
        elif pa != pb and not set(people[pa]) & set(people[pb]):
            for kp, peak in people[pb].items():
                people[pa][kp] = peak
                owner[(kp, peak)] = pa
            people[pb] = {}

    found, scores = [], []
    for person in people:
        if len(person) < min_keypoints:
            continue
        arr = np.zeros((k, 3))
        for kp, peak in person.items():
            arr[kp] = peaks[kp][peak]
        xy = heatmap_to_input(arr[:, :2], input_size, (wh, hh), "unbiased")
        scores.append(float(arr[list(person), 2].mean() * len(person) / k))
        arr[:, :2] = np.where(arr[:, 2:3] > 0, xy, 0.0)
        arr[:, 2] = np.where(arr[:, 2] > 0, 2.0, 0.0)
        found.append(arr)
    order = (
        np.argsort(-np.asarray(scores), kind="stable")[:max_people] if scores else np.zeros(0, int)
    )
    people_arr = np.asarray(found, np.float64).reshape(-1, k, 3)[order]
    return people_arr, np.asarray(scores, np.float64)[order]
