"""Part affinity fields for multi-person keypoints (the OpenPose idea, small).

A bottom-up network looks at a whole image with several people and predicts,
at stride ``s``:

- ``K`` heatmaps with a peak at *every* person's keypoint of each type, and
- for each skeleton edge ``(a, b)`` a 2-channel *part affinity field*: on the
  limb from ``a`` to ``b`` of any person it holds the unit vector pointing from
  ``a`` to ``b``, elsewhere zero (Cao et al., CVPR 2017).

:func:`group_people` then turns peaks into people: every candidate pair of
peaks of an edge is scored by the mean agreement between the field sampled
along the segment and the segment's direction; pairs are accepted greedily by
score (each peak used once per edge), and accepted pairs that share a peak are
joined into people.

Example
-------
>>> import numpy as np
>>> from kplearn.skeletons import Skeleton
>>> sk = Skeleton("stick3", ("a", "b", "c"), edges=((0, 1), (1, 2)))
>>> people = np.array([[[8, 8, 2], [8, 24, 2], [8, 40, 2]],
...                    [[40, 8, 2], [40, 24, 2], [40, 40, 2]]], float)
>>> hm, paf = encode_targets(people, (64, 64), (16, 16), sk.edges, sigma=1.0, paf_width=1.0)
>>> found, scores = group_people(hm, paf, sk.edges, (64, 64))
>>> sorted(found[:, 0, 0].round().tolist())
[8.0, 40.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kplearn.codecs.coordinates import heatmap_to_input, input_to_heatmap
from kplearn.models.base import KeypointNet, flip_heatmaps, gaussian_targets
from kplearn.models.blocks import ResNetEncoder, UpBlock, conv_bn_relu, init_weights
from kplearn.models.losses import heatmap_loss

__all__ = ["PAFNet", "paf_targets", "encode_targets", "find_peaks", "group_people", "paf_flip_map"]


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
    """Heatmaps ``(K, H', W')`` and fields ``(2E, H', W')`` for the people ``(M, K, 3)`` of one image."""
    kp = torch.as_tensor(np.asarray(people, np.float64)[None])
    hm, _ = gaussian_targets(kp, input_size, heatmap_size, sigma)
    paf = paf_targets(kp, input_size, heatmap_size, edges, paf_width)
    return hm[0].numpy(), paf[0].numpy()


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
        ``x, y`` in input pixels and the peak value as the third column (0 where the
        person has no such keypoint; then ``x, y`` are 0).
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
    t = np.linspace(0.0, 1.0, samples)
    for e, (a, b) in enumerate(edge_arr):
        pa, pb = peaks[a][:, :2], peaks[b][:, :2]
        if not len(pa) or not len(pb):
            continue
        d = pb[None] - pa[:, None]  # (A, B, 2)
        length = np.hypot(d[..., 0], d[..., 1])
        u = d / np.maximum(length, 1e-9)[..., None]
        pts = pa[:, None, None] + t[None, None, :, None] * d[:, :, None]  # (A, B, S, 2)
        xi = np.clip(np.rint(pts[..., 0]).astype(int), 0, wh - 1)
        yi = np.clip(np.rint(pts[..., 1]).astype(int), 0, hh - 1)
        agree = paf[2 * e][yi, xi] * u[..., None, 0] + paf[2 * e + 1][yi, xi] * u[..., None, 1]
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
        arr[:, :2] = np.where(arr[:, 2:3] > 0, xy, 0.0)
        found.append(arr)
        scores.append(float(arr[list(person), 2].mean() * len(person) / k))
    order = (
        np.argsort(-np.asarray(scores), kind="stable")[:max_people] if scores else np.zeros(0, int)
    )
    people_arr = np.asarray(found, np.float64).reshape(-1, k, 3)[order]
    return people_arr, np.asarray(scores, np.float64)[order]


class PAFNet(KeypointNet):
    """Bottom-up network: ResNet encoder, upsampling, and two 1×1 heads (heatmaps, fields).

    Config: ``width`` (encoder widths ``width * (1, 2, 4, 8)``), ``stride`` (4),
    ``sigma``, ``paf_width`` (limb half-width in heatmap pixels), ``edges``
    (from the skeleton), ``loss`` (``"mse"``). ``forward`` returns
    ``{"heatmaps": (N, K, H', W'), "pafs": (N, 2E, H', W')}``.
    """

    output_kind = "paf"

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        if "edges" not in config or not config["edges"]:
            raise ValueError("a PAF model needs the skeleton's edges in its config")
        self.edges = [tuple(int(v) for v in e) for e in config["edges"]]
        c = int(config.get("width", 32))
        widths = (c, 2 * c, 4 * c, 8 * c)
        self.encoder = ResNetEncoder(widths, 1)
        stride = int(config.get("stride", 4))
        if stride not in (2, 4, 8):
            raise ValueError(f"paf stride must be 2, 4 or 8, got {stride}")
        _ = self.heatmap_size
        n_up = {8: 1, 4: 2, 2: 3}[stride]
        ups, ch = [], widths[-1]
        # Upsample with skip connections from the encoder (U-Net style) to keep limbs sharp.
        self.lateral = nn.ModuleList()
        for u in range(n_up):
            ups.append(UpBlock(ch, 2 * c))
            self.lateral.append(conv_bn_relu(widths[-2 - u], 2 * c, kernel_size=1))
            ch = 2 * c
        self.ups = nn.ModuleList(ups)
        self.heat_head = nn.Sequential(conv_bn_relu(ch, ch), nn.Conv2d(ch, self.num_keypoints, 1))
        self.paf_head = nn.Sequential(conv_bn_relu(ch, ch), nn.Conv2d(ch, 2 * len(self.edges), 1))
        self.apply(init_weights)
        index, sign = paf_flip_map(self.edges, config["flip_index"])
        self.register_buffer("paf_flip_index", torch.as_tensor(index), persistent=False)
        self.register_buffer(
            "paf_flip_sign", torch.as_tensor(sign, dtype=torch.float32), persistent=False
        )

    def forward(self, x: torch.Tensor) -> dict:
        feats = self.encoder(x)
        y = feats[-1]
        for u, (up, lat) in enumerate(zip(self.ups, self.lateral, strict=True)):
            y = up(y)
            skip = lat(feats[-2 - u])
            if skip.shape[-2:] != y.shape[-2:]:
                y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = y + skip
        return {"heatmaps": self.heat_head(y), "pafs": self.paf_head(y)}

    def loss(self, out: dict, keypoints: torch.Tensor) -> tuple[torch.Tensor, dict]:
        hm_t, _ = gaussian_targets(keypoints, self.input_size, self.heatmap_size,
                                   float(self.config.get("sigma", 1.5)))  # fmt: skip
        paf_t = paf_targets(keypoints, self.input_size, self.heatmap_size, self.edges,
                            float(self.config.get("paf_width", 1.0)))  # fmt: skip
        ones_k = torch.ones(hm_t.shape[:2], dtype=hm_t.dtype, device=hm_t.device)
        ones_e = torch.ones(paf_t.shape[:2], dtype=hm_t.dtype, device=hm_t.device)
        lh = 1000.0 * heatmap_loss("mse", out["heatmaps"], hm_t, ones_k)
        lp = 100.0 * heatmap_loss("mse", out["pafs"], paf_t, ones_e)
        return lh + lp, {"heatmaps": float(lh.detach()), "pafs": float(lp.detach())}

    def merge_flip(self, out: dict, out_flipped: dict) -> dict:
        hm = 0.5 * (out["heatmaps"] + flip_heatmaps(out_flipped["heatmaps"], self.flip_index))
        n, _, h, w = out_flipped["pafs"].shape
        pf = out_flipped["pafs"].flip(-1).view(n, -1, 2, h, w)[:, self.paf_flip_index]
        pf = pf * torch.tensor([-1.0, 1.0], dtype=pf.dtype, device=pf.device).view(1, 1, 2, 1, 1)
        pf = pf * self.paf_flip_sign.to(pf.dtype).view(1, -1, 1, 1, 1)
        return {"heatmaps": hm, "pafs": 0.5 * (out["pafs"] + pf.flatten(1, 2))}

    def decode_people(self, out: dict, **kwargs) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per image, ``(people (M, K, 3), scores (M,))`` in input pixels (see :func:`group_people`)."""
        hm = out["heatmaps"].detach().float().cpu().numpy()
        pafs = out["pafs"].detach().float().cpu().numpy()
        return [
            group_people(h, p, self.edges, self.input_size, **kwargs)
            for h, p in zip(hm, pafs, strict=True)
        ]

    def _decode(self, out: dict) -> tuple[np.ndarray, np.ndarray]:
        """The highest-scoring person of each image, as ``(N, K, 2)`` keypoints and ``(N, K)`` scores."""
        xy = np.zeros((out["heatmaps"].shape[0], self.num_keypoints, 2))
        sc = np.zeros(xy.shape[:2])
        for n, (people, _) in enumerate(self.decode_people(out)):
            if len(people):
                xy[n], sc[n] = people[0, :, :2], people[0, :, 2]
        return xy, sc
