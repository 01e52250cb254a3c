"""COCO keypoint AP/AR, the ten statistics of pycocotools, vectorised in numpy.

:func:`coco_keypoint_eval` reproduces ``COCOeval(iouType="keypoints")`` followed by
``evaluate()``, ``accumulate()`` and ``summarize()``: the same OKS, the same greedy
matching, the same 101-point interpolated precision, the same ten numbers. It is
written as array operations over all images at once (OKS over ``(images, D, G, K)``,
matching over ``(area ranges, thresholds, images, G)`` one detection rank at a time),
which is what makes it several times faster than the reference loops.

Where pycocotools has a hazard, kplearn does the right thing and says so:

- **Annotation id 0.** pycocotools stores the matched ground-truth *id* and uses 0 to
  mean "unmatched", so a detection matched to a ground truth with id 0 is counted
  as a false positive. kplearn keeps matches as flags; ids play no part (they must
  only be unique where given).
- **Empty detection list.** pycocotools' ``loadRes`` raises ``IndexError``; here it is
  valid input: every range with ground truth scores AP = AR = 0.
- **NaN in a prediction.** pycocotools turns the OKS into NaN, and its matching loop
  then matches that detection to an arbitrary ground truth. Here a NaN or infinite
  keypoint coordinate contributes similarity 0 (it is a miss).
- **Records pycocotools drops silently** (ground truths on images not listed in
  ``images``, categories not listed in ``categories``, detections whose category is
  unknown) are errors here, as are detections on unknown images (pycocotools
  asserts) and duplicate annotation ids (pycocotools would silently evaluate one
  annotation twice).
- **The detection area** (which decides whether an unmatched detection is ignored
  in the medium/large ranges) is ``w·h`` of the detection's ``bbox`` when it has one,
  else the extent of its keypoints, ``(x_max − x_min)(y_max − y_min)``, as in
  ``loadRes``. pycocotools decides between the two rules from the *first* result
  only; kplearn decides per detection (the same whenever all results agree). Only
  finite keypoint coordinates enter the extent; a detection with none has area 0.

Examples
--------
>>> kps = [10, 10, 2, 20, 10, 2, 15, 30, 2]
>>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "keypoints": kps,
...                        "num_keypoints": 3, "area": 12000.0, "bbox": [0, 0, 100, 120],
...                        "iscrowd": 0}]}
>>> dt = [{"image_id": 1, "category_id": 1, "keypoints": kps, "score": 0.9}]
>>> stats = coco_keypoint_eval(gt, dt, sigmas=[0.05, 0.05, 0.05])
>>> [round(stats[k], 6) for k in ("AP", "APm", "APl")]  # 1 - eps, as pycocotools
[1.0, -1.0, 1.0]
"""

from __future__ import annotations

import array
import itertools
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from kplearn.metrics.oks import _oks_core, resolve_sigmas
from kplearn.skeletons import Skeleton, get_skeleton

__all__ = [
    "coco_keypoint_eval",
    "STAT_NAMES",
    "OKS_THRESHOLDS",
    "RECALL_THRESHOLDS",
    "AREA_RANGES",
]

#: Keys of the ten statistics, in pycocotools' ``stats`` order.
STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
# Built exactly as pycocotools builds them (np.arange would drift in the last bits).
#: OKS thresholds .50:.05:.95.
OKS_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
#: Recall thresholds 0:.01:1 for 101-point interpolated precision.
RECALL_THRESHOLDS = np.linspace(0.0, 1.0, int(np.round((1.0 - 0.0) / 0.01)) + 1, endpoint=True)
#: Area ranges (inclusive bounds): all, medium, large.
AREA_RANGES = {"all": (0.0, 1e5**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e5**2)}

_EPS = np.spacing(1)


# --------------------------------------------------------------------------- input


def _load(obj: Any, what: str) -> Any:
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{what} file not found: {path}")
        with open(path, encoding="utf-8") as f:
            try:
                return json.load(f)
            except json.JSONDecodeError as err:
                raise ValueError(f"{what} file {path} is not valid JSON: {err}") from None
    return obj


def _float_rows(records: list, key: str, width: int | None, what: str) -> np.ndarray:
    """Stack ``record[key]`` (a number, or ``width`` numbers) into a float array.

    On failure the first bad record is named.
    """
    shape = (len(records),) if width is None else (len(records), width)
    try:
        rows = [r[key] for r in records]
    except (KeyError, TypeError):
        rows = None
    if rows is not None and width is None:
        _check_number_types(rows, False, key, what)  # numpy would read "0.9" and true as numbers
    try:
        if rows is None:
            raise KeyError(key)
        if width is not None and all(len(row) == width for row in rows):
            # array("d") over the flattened lists is fast and, unlike numpy, refuses strings
            flat = array.array("d", itertools.chain.from_iterable(rows))
            return np.frombuffer(flat, dtype=np.float64).reshape(shape)
        if width is not None:
            raise ValueError
        arr = np.array(rows, dtype=np.float64)
        if arr.shape == shape:
            return arr
    except (KeyError, TypeError, ValueError):
        if rows is not None:
            _check_number_types(rows, width is not None, key, what)
    for i, r in enumerate(records):
        if key not in r:
            raise ValueError(f"{what} #{i} has no {key!r}")
        try:
            v = np.asarray(r[key], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{what} #{i}: {key!r} is not numeric") from None
        if width is None and v.ndim != 0:
            raise ValueError(f"{what} #{i}: {key!r} must be a number")
        if width is not None and v.shape != (width,):
            raise ValueError(f"{what} #{i}: {key!r} has {v.size} values, expected {width}")
    raise ValueError(f"{what}: could not read {key!r}")  # pragma: no cover


def _is_number_type(t: type) -> bool:
    return issubclass(t, (int, float, np.integer, np.floating)) and not issubclass(t, (bool, np.bool_))


def _check_number_types(rows: list, nested: bool, key: str, what: str) -> None:
    """Refuse strings, booleans and ``None`` among the values: numpy would coerce ``"0.9"`` or ``true``.

    Only the set of value types is inspected (fast); on a bad one the first bad record is named.
    """
    values = itertools.chain.from_iterable(r for r in rows if isinstance(r, (list, tuple))) if nested else rows
    types = set(map(type, values))
    if nested:
        types |= {type(r) for r in rows if not isinstance(r, (list, tuple, np.ndarray))}
        types |= {np.float64 for r in rows if isinstance(r, np.ndarray) and r.dtype.kind in "fiu"}
        types |= {str for r in rows if isinstance(r, np.ndarray) and r.dtype.kind not in "fiu"}
    if all(_is_number_type(t) for t in types):
        return
    for i, r in enumerate(rows):
        vals = (list(r) if isinstance(r, (list, tuple, np.ndarray)) else [r]) if nested else [r]
        if nested and not isinstance(r, (list, tuple, np.ndarray)):
            raise ValueError(f"{what} #{i}: {key!r} must be a list of numbers, got {type(r).__name__}")
        for j, v in enumerate(vals):
            if not _is_number_type(type(v)):
                at = f"[{j}]" if nested else ""
                raise ValueError(
                    f"{what} #{i}: {key!r}{at} is {type(v).__name__} {v!r:.20}, not a number"
                )


def _index_ids(ids: Sequence, table: dict, what: str, kind: str) -> np.ndarray:
    try:
        return np.fromiter((table[i] for i in ids), dtype=np.int64, count=len(ids))
    except (KeyError, TypeError):
        unknown = sorted({repr(i) for i in ids if not _hashable_in(i, table)})
        raise ValueError(
            f"{what} refer to {kind} ids not in the ground truth: {', '.join(unknown[:5])}"
            + (" ..." if len(unknown) > 5 else "")
        ) from None


def _index_records(
    records: list, gt: _GroundTruth, what: str, plural: str
) -> tuple[np.ndarray, np.ndarray]:
    """Image and category indices (into ``gt``'s sorted ids) of records that must be dicts.

    Each record needs an ``image_id`` and a ``category_id``; ``what`` names one
    record in messages (``"detection #3 ..."``), ``plural`` all of them.
    """
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise ValueError(f"{what} #{i} is not a dict")
        for key in ("image_id", "category_id"):
            if key not in r:
                raise ValueError(f"{what} #{i} has no {key!r}")
    img = _index_ids([r["image_id"] for r in records], gt.image_index, plural, "image")
    cat = _index_ids([r["category_id"] for r in records], gt.category_index, plural, "category")
    return img, cat


def _hashable_in(key: Any, table: dict) -> bool:
    try:
        return key in table
    except TypeError:
        return False


def _check_unique_ids(records: list, what: str) -> None:
    ids = [r["id"] for r in records if "id" in r]
    if len(set(ids)) != len(ids):
        seen: set = set()
        dup = next(i for i in ids if i in seen or seen.add(i))
        raise ValueError(f"{what}: duplicate id {dup!r}")


class _GroundTruth:
    """Parsed and checked ground truth (arrays in annotation order)."""

    def __init__(self, data: Any, no_keypoints_rule: str) -> None:
        if not isinstance(data, dict):
            raise ValueError("gt must be a COCO keypoints dict (or a path to one)")
        for key in ("images", "annotations"):
            if not isinstance(data.get(key), list):
                raise ValueError(f"gt has no {key!r} list")
        images = data["images"]
        anns = data["annotations"]
        try:
            img_ids = [im["id"] for im in images]
        except (KeyError, TypeError):
            raise ValueError("gt: every image needs an 'id'") from None
        if len(set(img_ids)) != len(img_ids):
            raise ValueError("gt: duplicate image ids")
        try:
            # pycocotools evaluates images in sorted id order; ties across images follow it.
            self.image_ids = sorted(img_ids)
        except TypeError:
            raise ValueError("gt: image ids must be mutually comparable (e.g. all int)") from None
        self.image_index = {iid: i for i, iid in enumerate(self.image_ids)}
        if isinstance(data.get("categories"), list):
            try:
                cats = [c["id"] for c in data["categories"]]
            except (KeyError, TypeError):
                raise ValueError("gt: every category needs an 'id'") from None
        else:
            cats = [a.get("category_id") for a in anns if isinstance(a, dict)]
        self.category_ids = sorted(set(cats))
        self.category_index = {c: i for i, c in enumerate(self.category_ids)}
        _check_unique_ids(anns, "gt annotations")

        n = len(anns)
        self.img, self.cat = _index_records(anns, self, "gt annotation", "gt annotations")
        self.num_keypoints: int | None = None
        kp = np.zeros((0, 0, 3))
        if n:
            first = anns[0].get("keypoints")
            width = len(first) if isinstance(first, (list, tuple)) else 0
            if width == 0 or width % 3:
                raise ValueError(
                    "gt annotation #0: 'keypoints' must be a flat list of 3 values per keypoint"
                )
            kp = _float_rows(anns, "keypoints", width, "gt annotation").reshape(n, -1, 3)
            self.num_keypoints = width // 3
        vis = kp[..., 2]
        if not np.all(np.isfinite(vis)) or np.any(vis < 0):
            bad = int(np.flatnonzero(~(np.isfinite(vis) & (vis >= 0)).all(axis=1))[0])
            raise ValueError(f"gt annotation #{bad}: visibility must be finite and >= 0")
        self.labelled = vis > 0
        bad_xy = self.labelled & ~np.isfinite(kp[..., :2]).all(axis=-1)
        if bad_xy.any():
            bad = int(np.flatnonzero(bad_xy.any(axis=1))[0])
            raise ValueError(
                f"gt annotation #{bad}: NaN or infinite coordinates at a labelled keypoint"
            )
        self.xy = kp[..., :2]
        self.area = _float_rows(anns, "area", None, "gt annotation") if n else np.zeros(0)
        bad_area = ~np.isfinite(self.area) | (self.area < 0)
        if bad_area.any():
            bad = int(np.flatnonzero(bad_area)[0])
            raise ValueError(
                f"gt annotation #{bad}: area must be finite and >= 0, got {self.area[bad]}"
            )
        for i, a in enumerate(anns):
            c = a.get("iscrowd", 0)
            if not (isinstance(c, (int, np.integer)) and c in (0, 1)):  # bools are ints 0 and 1 too
                raise ValueError(f"gt annotation #{i}: 'iscrowd' must be 0 or 1, got {c!r}")
        self.crowd = np.array([bool(a.get("iscrowd", 0)) for a in anns], dtype=bool)
        k1 = self.labelled.sum(axis=1)
        if no_keypoints_rule == "field":
            # pycocotools reads the field; where it is missing, count v > 0 instead.
            nks = [a.get("num_keypoints", -1) for a in anns]
            _check_number_types(nks, False, "num_keypoints", "gt annotation")
            nk = np.array(nks, dtype=np.float64)
            no_kp = np.where(nk >= 0, nk == 0, k1 == 0)
        elif no_keypoints_rule == "visibility":
            no_kp = k1 == 0
        else:
            raise ValueError(
                f"no_keypoints_rule must be 'field' or 'visibility', got {no_keypoints_rule!r}"
            )
        self.ignore = self.crowd | no_kp
        # Boxes are needed only for the doubled-box OKS of a GT with no labelled keypoint.
        self.box = np.zeros((n, 4))
        for i in np.flatnonzero(k1 == 0):
            b = anns[i].get("bbox")
            try:
                b = np.asarray(b, dtype=np.float64)
            except (TypeError, ValueError):
                b = None
            if b is None or b.shape != (4,) or not np.all(np.isfinite(b)) or np.any(b[2:] < 0):
                raise ValueError(
                    f"gt annotation #{i} has no labelled keypoint, so it needs a valid 'bbox' "
                    "[x, y, w, h] (pycocotools matches it against the doubled box)"
                )
            self.box[i] = b


class _Detections:
    """Parsed and checked detections (arrays in list order)."""

    def __init__(self, data: Any, gt: _GroundTruth, num_keypoints: int) -> None:
        if not isinstance(data, (list, tuple)):
            raise ValueError("dt must be a list of COCO result dicts (or a path to one)")
        dts = list(data)
        n = len(dts)
        self.img, self.cat = _index_records(dts, gt, "detection", "detections")
        self.score = _float_rows(dts, "score", None, "detection") if n else np.zeros(0)
        if not np.all(np.isfinite(self.score)):
            bad = int(np.flatnonzero(~np.isfinite(self.score))[0])
            raise ValueError(f"detection #{bad}: score must be finite, got {self.score[bad]}")
        k = num_keypoints
        kp = _float_rows(dts, "keypoints", 3 * k, "detection") if n else np.zeros((0, 3 * k))
        self.xy = kp.reshape(n, k, 3)[..., :2]
        self.area = self._areas(dts)

    def _areas(self, dts: list) -> np.ndarray:
        x, y = self.xy[..., 0], self.xy[..., 1]
        finite = np.isfinite(x) & np.isfinite(y)
        with np.errstate(invalid="ignore"):
            w = np.where(finite, x, -np.inf).max(axis=1, initial=-np.inf) - np.where(
                finite, x, np.inf
            ).min(axis=1, initial=np.inf)
            h = np.where(finite, y, -np.inf).max(axis=1, initial=-np.inf) - np.where(
                finite, y, np.inf
            ).min(axis=1, initial=np.inf)
        area = np.where(finite.any(axis=1), w * h, 0.0)
        for i, d in enumerate(dts):
            b = d.get("bbox")
            if b is None or (isinstance(b, (list, tuple)) and len(b) == 0):
                continue
            try:
                b = np.asarray(b, dtype=np.float64)
            except (TypeError, ValueError):
                b = None
            if b is None or b.shape != (4,) or not np.all(np.isfinite(b)) or np.any(b[2:] < 0):
                raise ValueError(f"detection #{i}: 'bbox' must be [x, y, w, h] with w, h >= 0")
            area[i] = b[2] * b[3]
        return area


# ---------------------------------------------------------------------- matching


def _match_group(
    oks_: np.ndarray,
    det_valid: np.ndarray,
    gt_ignore: np.ndarray,
    crowd: np.ndarray,
    thresholds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy pycocotools matching for a batch of images with the same number of GTs.

    ``oks_ (n, D, G)``, ``det_valid (n, D)``, ``gt_ignore (A, n, G)``, ``crowd (n, G)``.
    Returns ``matched (A, T, n, D)`` and ``ignored (A, T, n, D)`` (matched to an ignored GT).

    Detections are taken in score order (the loop over ranks ``r`` is the only loop;
    it is inherently sequential because a GT can be matched once). For each
    (range, threshold, image) the detection goes to the non-ignored, still-free GT
    with the highest OKS ≥ t, the *last* one on ties (pycocotools' ``<`` test); only
    if there is none, to the best ignored GT (crowd GTs stay free for ever).
    """
    n, d_max, g = oks_.shape
    a_n, t_n = gt_ignore.shape[0], thresholds.shape[0]
    matched_gt = np.zeros((a_n, t_n, n, g), dtype=bool)
    det_matched = np.zeros((a_n, t_n, n, d_max), dtype=bool)
    det_ignored = np.zeros((a_n, t_n, n, d_max), dtype=bool)
    ig = gt_ignore[:, None]  # (A, 1, n, G)
    ig_full = np.broadcast_to(ig, (a_n, t_n, n, g))
    reverse = np.arange(g - 1, -1, -1)
    cols = np.arange(g)
    for r in range(d_max):
        o = oks_[:, r, :]  # (n, G)
        cand = (o >= thresholds[:, None, None]) & (~matched_gt | crowd)  # (A, T, n, G)
        regular = cand & ~ig
        choose = np.where(regular.any(axis=-1, keepdims=True), regular, cand & ig)
        val = np.where(choose, o, -1.0)
        best = val.max(axis=-1, keepdims=True)
        # Last index among equal bests: argmax over the reversed axis.
        hit = choose & (val == best)
        idx = reverse[np.argmax(hit[..., ::-1], axis=-1)]  # (A, T, n)
        has = hit.any(axis=-1) & det_valid[None, None, :, r]
        matched_gt |= (cols == idx[..., None]) & has[..., None]
        det_matched[..., r] = has
        det_ignored[..., r] = has & np.take_along_axis(ig_full, idx[..., None], axis=-1)[..., 0]
    return det_matched, det_ignored


def _evaluate_category(
    gt: _GroundTruth,
    dt: _Detections,
    cat: int,
    variances: np.ndarray,
    max_dets: int,
    area_lo: np.ndarray,
    area_hi: np.ndarray,
    thresholds: np.ndarray,
    recall_thresholds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Precision ``(T, R, A)`` and recall ``(T, A)`` for one category (−1 where undefined)."""
    a_n, t_n, r_n = area_lo.shape[0], thresholds.shape[0], recall_thresholds.shape[0]
    precision = -np.ones((t_n, r_n, a_n))
    recall = -np.ones((t_n, a_n))
    n_img = len(gt.image_ids)

    g_sel = np.flatnonzero(gt.cat == cat)
    g_ord = g_sel[np.argsort(gt.img[g_sel], kind="stable")]  # by image, then file order
    d_sel = np.flatnonzero(dt.cat == cat)
    # By image, then score descending (stable: file order on ties), as pycocotools.
    d_ord = d_sel[np.argsort(-dt.score[d_sel], kind="stable")]
    d_ord = d_ord[np.argsort(dt.img[d_ord], kind="stable")]
    d_img = dt.img[d_ord]
    d_count_all = np.bincount(d_img, minlength=n_img)
    d_start_all = np.cumsum(d_count_all) - d_count_all
    rank = np.arange(d_ord.size) - d_start_all[d_img]
    d_ord = d_ord[rank < max_dets]  # only the top max_dets per image count, before OKS
    d_img = dt.img[d_ord]
    n_det = d_ord.size

    g_img = gt.img[g_ord]
    g_count = np.bincount(g_img, minlength=n_img)
    g_start = np.cumsum(g_count) - g_count
    d_count = np.bincount(d_img, minlength=n_img)
    d_start = np.cumsum(d_count) - d_count

    g_area = gt.area[g_ord]
    gt_ignore = (
        gt.ignore[g_ord][None, :]
        | (g_area[None, :] < area_lo[:, None])
        | (g_area[None, :] > area_hi[:, None])
    )  # (A, Ng)
    npig = (~gt_ignore).sum(axis=1)  # (A,)
    if g_ord.size == 0 and n_det == 0:
        return precision, recall  # pycocotools: no evaluated image, all −1

    det_matched = np.zeros((a_n, t_n, n_det), dtype=bool)
    det_ignored = np.zeros((a_n, t_n, n_det), dtype=bool)
    for g in np.unique(g_count[(g_count > 0) & (d_count > 0)]):
        imgs = np.flatnonzero((g_count == g) & (d_count > 0))
        gi = g_ord[g_start[imgs][:, None] + np.arange(g)]  # (n, G) annotation rows
        gpos = g_start[imgs][:, None] + np.arange(g)  # positions in g_ord order
        d_max = int(d_count[imgs].max())
        dpos = d_start[imgs][:, None] + np.arange(d_max)
        dvalid = np.arange(d_max) < d_count[imgs][:, None]
        dpos = np.where(dvalid, dpos, 0)
        di = d_ord[dpos]
        labelled = gt.labelled[gi]
        boxes = gt.box[gi] if np.any(labelled.sum(axis=-1) == 0) else None
        o = _oks_core(dt.xy[di], gt.xy[gi], labelled, gt.area[gi], boxes, variances)
        m, ig = _match_group(o, dvalid, gt_ignore[:, gpos], gt.crowd[gi], thresholds)
        det_matched[..., dpos[dvalid]] = m[..., dvalid]
        det_ignored[..., dpos[dvalid]] = ig[..., dvalid]

    # Unmatched detections outside the area range are ignored.
    d_area = dt.area[d_ord]
    d_out = (d_area[None, :] < area_lo[:, None]) | (d_area[None, :] > area_hi[:, None])  # (A, Nd)
    det_ignored |= ~det_matched & d_out[:, None, :]

    # Accumulate: all images concatenated (image order, score order), re-sorted by score.
    order = np.argsort(-dt.score[d_ord], kind="mergesort")
    for a in range(a_n):
        if npig[a] == 0:
            continue
        m = det_matched[a][:, order]
        ig = det_ignored[a][:, order]
        tp = np.cumsum(m & ~ig, axis=1).astype(float)
        fp = np.cumsum(~m & ~ig, axis=1).astype(float)
        if n_det == 0:
            recall[:, a] = 0.0
            precision[:, :, a] = 0.0
            continue
        rc = tp / npig[a]
        pr = tp / (fp + tp + _EPS)
        recall[:, a] = rc[:, -1]
        pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]  # monotone from the right
        for t in range(t_n):
            inds = np.searchsorted(rc[t], recall_thresholds, side="left")
            inside = inds < n_det
            precision[t, :, a] = np.where(inside, pr[t, np.minimum(inds, n_det - 1)], 0.0)
    return precision, recall


def _mean_defined(x: np.ndarray) -> float:
    sel = x[x > -1]
    return float(np.mean(sel)) if sel.size else -1.0


def coco_keypoint_eval(
    gt: dict | str | os.PathLike,
    dt: list | str | os.PathLike,
    sigmas: Sequence[float] | np.ndarray | str | Skeleton | None = None,
    return_arrays: bool = False,
    *,
    no_keypoints_rule: str = "field",
    max_dets: int = 20,
) -> dict[str, Any]:
    """COCO keypoint AP/AR: the ten statistics of pycocotools' ``COCOeval(iouType="keypoints")``.

    Parameters
    ----------
    gt : dict or path
        COCO keypoints ground truth: ``images`` (each with ``id``), ``annotations`` (each with
        ``image_id``, ``category_id``, ``keypoints`` as a flat ``[x, y, v] * K`` list, ``area``,
        optional ``iscrowd`` (default 0), ``num_keypoints``, ``bbox``, ``id``) and optionally
        ``categories`` (default: the categories the annotations use). All images and all
        categories are evaluated, as pycocotools does by default.
    dt : list or path
        COCO results: dicts with ``image_id``, ``category_id``, ``keypoints`` (flat, 3 values per
        keypoint; the third is ignored) and ``score``; an optional ``bbox`` sets the detection
        area. An empty list is valid (AP = AR = 0 wherever there is ground truth).
    sigmas : array-like (K,), str, Skeleton or None
        OKS sigmas; None means the 17 COCO body sigmas (then K must be 17).
    return_arrays : bool
        Also return ``precision`` ``(T=10, R=101, C, A=3)`` (interpolated precision per OKS
        threshold, recall threshold, category and area range; −1 where undefined), ``recall``
        ``(T, C, A)``, and the axes: ``oks_thresholds``, ``recall_thresholds``, ``category_ids``,
        ``area_ranges``, for plotting precision/recall curves.
    no_keypoints_rule : {"field", "visibility"}
        How a ground truth with no labelled keypoints is recognised (such ground truths are
        ignore regions). ``"field"`` (default, as pycocotools) reads ``num_keypoints == 0``,
        counting ``v > 0`` only where the field is missing; ``"visibility"`` (as xtcocotools)
        always counts ``v > 0``. The OKS itself always uses the visibilities: a ground truth
        with no ``v > 0`` keypoint is matched with the doubled-box rule (see :func:`oks`).
    max_dets : int
        Detections kept per image, by score (pycocotools' keypoint setting is 20; other values
        are accepted, but then the statistics are no longer the published definition).

    Returns
    -------
    dict
        ``AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl`` as floats: AP averaged over the
        OKS thresholds .50:.05:.95 and 101 recall points, at .50 and .75, for the medium
        (32² ≤ area ≤ 96²) and large (area ≥ 96²) ranges; AR likewise (final recall). A statistic
        is −1 when no category has a non-ignored ground truth in its range.

    Raises
    ------
    ValueError
        Malformed records (named by index), keypoint counts that differ from the sigmas,
        NaN/inf at labelled ground-truth keypoints, negative or NaN areas, non-finite scores,
        detections or annotations that refer to unknown image or category ids, duplicate ids.
    FileNotFoundError
        A path that does not exist.

    Notes
    -----
    Semantics follow pycocotools exactly: ground truths with ``iscrowd`` or no labelled
    keypoints are ignore regions (a detection matched to one is neither TP nor FP; crowd regions
    can absorb any number of detections); ground truths outside an area range are ignored in
    that range; detections are ranked per image by score (stable order on ties) and only the top
    ``max_dets`` count; a detection takes the best still-free non-ignored ground truth with
    OKS ≥ t, else the best ignored one; an unmatched detection whose area is outside the range
    is ignored; all images are then pooled and re-ranked by score (stable), precision is made
    monotone and read at recall ≥ 0, .01, ..., 1 (0 beyond the final recall). The differences
    (id-0 hazard, NaN predictions, empty lists, records pycocotools silently drops) are listed
    in the module docstring. Like pycocotools, kplearn does not read a user ``ignore`` field
    (pycocotools overwrites it); mark ignore regions with ``iscrowd``.

    Examples
    --------
    See the module docstring.
    """
    if no_keypoints_rule not in ("field", "visibility"):
        raise ValueError(
            f"no_keypoints_rule must be 'field' or 'visibility', got {no_keypoints_rule!r}"
        )
    if int(max_dets) != max_dets or max_dets < 1:
        raise ValueError(f"max_dets must be a positive integer, got {max_dets!r}")
    g = _GroundTruth(_load(gt, "gt"), no_keypoints_rule)
    dt_list = _load(dt, "dt")
    if not isinstance(dt_list, (list, tuple)):
        raise ValueError("dt must be a list of COCO result dicts (or a path to one)")
    k = g.num_keypoints
    if k is None:  # no annotations at all: K comes from the detections, else the sigmas
        first = dt_list[0].get("keypoints") if dt_list and isinstance(dt_list[0], dict) else None
        if isinstance(first, (list, tuple)) and len(first) % 3 == 0 and first:
            k = len(first) // 3
        elif sigmas is None:
            k = 17
        elif isinstance(sigmas, (str, Skeleton)):
            k = get_skeleton(sigmas).num_keypoints
        else:
            k = int(np.size(sigmas))
    variances = (2 * resolve_sigmas(sigmas, k)) ** 2
    d = _Detections(dt_list, g, k)

    labels = list(AREA_RANGES)
    lo = np.array([AREA_RANGES[x][0] for x in labels])
    hi = np.array([AREA_RANGES[x][1] for x in labels])
    t_n, r_n, c_n = OKS_THRESHOLDS.size, RECALL_THRESHOLDS.size, len(g.category_ids)
    precision = -np.ones((t_n, r_n, c_n, lo.size))
    recall = -np.ones((t_n, c_n, lo.size))
    for c in range(c_n):
        precision[:, :, c], recall[:, c] = _evaluate_category(
            g, d, c, variances, int(max_dets), lo, hi, OKS_THRESHOLDS, RECALL_THRESHOLDS
        )

    t50 = np.flatnonzero(OKS_THRESHOLDS == 0.5)
    t75 = np.flatnonzero(OKS_THRESHOLDS == 0.75)
    a_all, a_med, a_large = (labels.index(x) for x in ("all", "medium", "large"))
    stats = {
        "AP": _mean_defined(precision[..., a_all]),
        "AP50": _mean_defined(precision[t50][..., a_all]),
        "AP75": _mean_defined(precision[t75][..., a_all]),
        "APm": _mean_defined(precision[..., a_med]),
        "APl": _mean_defined(precision[..., a_large]),
        "AR": _mean_defined(recall[..., a_all]),
        "AR50": _mean_defined(recall[t50][..., a_all]),
        "AR75": _mean_defined(recall[t75][..., a_all]),
        "ARm": _mean_defined(recall[..., a_med]),
        "ARl": _mean_defined(recall[..., a_large]),
    }
    if return_arrays:
        stats.update(
            precision=precision,
            recall=recall,
            oks_thresholds=OKS_THRESHOLDS.copy(),
            recall_thresholds=RECALL_THRESHOLDS.copy(),
            category_ids=list(g.category_ids),
            area_ranges=dict(AREA_RANGES),
        )
    return stats
