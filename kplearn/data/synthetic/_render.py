"""Exact anti-aliased rasterisation, the argument checks and the occluders shared by the generators.

Why not OpenCV's ``fillPoly(..., LINE_AA, shift)``: it dilates shapes by about
half a pixel and can move an edge by up to half a pixel, so a landmark drawn
with it would not sit where its label says. :func:`rasterise` computes the
exact fraction of each pixel that a polygon covers instead (the area
accumulation used by font rasterisers: each edge is cut at pixel borders and
every piece adds its signed trapezoid area), so shapes are placed exactly and
their edges are anti-aliased. Pixel convention: integer coordinates are pixel
centres; pixel ``(i, j)`` spans ``[j-0.5, j+0.5] x [i-0.5, i+0.5]``.

Every other shape (ellipses, capsules, strokes, bands) is turned into
polygons first, so one rasteriser draws everything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import cv2
import numpy as np

from kplearn._checks import check_plain_int
from kplearn.data.synthetic.textures import BACKGROUND_IMAGES, random_crop

Polygon = np.ndarray  # (N, 2) float x, y


# --- shared documentation ---------------------------------------------------------------
_FINISH_PARAMETERS = """blur, noise : float or (lo, hi)
        Gaussian blur sigma (pixels) and noise standard deviation (grey levels);
        ``a``: ``[0, a]``.
    grayscale : bool
        Return ``H x W`` grey images.
    progress : bool
        Show a progress bar."""


_SAMPLE_PARAMETERS = """n : int
        Number of images (``>= 0``).
    image_size : int or (int, int)
        Square size or ``(width, height)``, at least {min_image_size}.
    seed : int
        Seed of everything random; sample ``i`` depends only on ``seed`` and ``i``."""


def generator_doc(min_image_size: int) -> Callable[[Callable], Callable]:
    """Write the parameters the generators share into a generator's docstring.

    The docstring's Parameters section holds the lines ``{sample_parameters}`` (``n``,
    ``image_size``, ``seed``) and ``{finish_parameters}`` (``blur``, ``noise``,
    ``grayscale``, ``progress``, what :func:`finish` uses), so that one text documents
    them for every generator.

    Parameters
    ----------
    min_image_size : int
        The generator's smallest accepted image side, stated under ``image_size``.

    Returns
    -------
    callable
        A decorator that fills in the docstring (left alone when stripped, ``-OO``) and
        returns the function itself.
    """

    def fill(function: Callable) -> Callable:
        if function.__doc__ is not None:
            sample = _SAMPLE_PARAMETERS.replace("{min_image_size}", str(min_image_size))
            doc = function.__doc__.replace("{sample_parameters}", sample)
            function.__doc__ = doc.replace("{finish_parameters}", _FINISH_PARAMETERS)
        return function

    return fill


# --- argument checks ---------------------------------------------------------------------
def check_count(n: object, name: str = "n") -> int:
    """``n`` as a non-negative int, or ``ValueError``/``TypeError`` naming it."""
    return check_plain_int(n, name)


def check_seed(seed: object) -> int:
    """The seed as a non-negative int (what ``np.random.SeedSequence`` accepts)."""
    return check_plain_int(seed, "seed")


def check_image_size(image_size: object, minimum: int, name: str = "image_size") -> tuple[int, int]:
    """``image_size`` (int: square, or ``(w, h)``) as ``(w, h)``, each at least ``minimum``."""
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        w = h = int(image_size)
    else:
        try:
            w, h = image_size  # type: ignore[misc]
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be an int or a (width, height) pair, got {image_size!r}"
            ) from None
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in (w, h)):
            raise ValueError(f"{name} must hold ints, got {image_size!r}")
        w, h = int(w), int(h)
    if w < minimum or h < minimum:
        raise ValueError(
            f"{name} {w}x{h} is too small: width and height must be at least {minimum}"
        )
    return w, h


def check_range(
    value: object,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    scalar: str = "upto",
) -> tuple[float, float]:
    """Turn a level argument into a closed interval ``(lo, hi)``.

    A pair ``(lo, hi)`` is taken as given, so ``(a, a)`` fixes the level at
    ``a``. A single number ``a`` means ``(0, a)`` (``scalar="upto"``),
    ``(-a, a)`` (``"symmetric"``) or ``(a, a)`` (``"fixed"``). Both ends must
    lie in ``[low, high]``.
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        a = float(value)
        if not math.isfinite(a):
            raise ValueError(f"{name} must be finite, got {value!r}")
        if scalar != "fixed" and a < 0:
            raise ValueError(f"{name} must be >= 0 (or give a (lo, hi) pair), got {value!r}")
        lo, hi = {"upto": (0.0, a), "symmetric": (-a, a), "fixed": (a, a)}[scalar]
    else:
        try:
            lo, hi = (float(v) for v in value)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number or a (lo, hi) pair, got {value!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"{name} must be finite, got {value!r}")
        if lo > hi:
            raise ValueError(f"{name}: lo > hi in {value!r}")
    if lo < low or hi > high:
        raise ValueError(f"{name} must lie within [{low}, {high}], got ({lo}, {hi})")
    return lo, hi


def check_level(value: object, name: str, low: float, high: float) -> float:
    """A single number in ``[low, high]``."""
    return check_range(value, name, low=low, high=high, scalar="fixed")[0]


def check_probability(value: object, name: str) -> float:
    """A probability in ``[0, 1]``."""
    try:
        p = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return p


def uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """One draw from ``bounds`` (a degenerate interval returns its value without using ``rng``)."""
    lo, hi = bounds
    return lo if lo == hi else float(rng.uniform(lo, hi))


def sample_rng(seed: int, stream: int, index: int) -> np.random.Generator:
    """Generator for item ``index`` of a stream: item ``i`` does not depend on how many are made."""
    return np.random.default_rng([seed, stream, index])


# --- geometry helpers -----------------------------------------------------------------
def similarity(
    points: np.ndarray, scale: float, angle_deg: float, center: Sequence[float]
) -> np.ndarray:
    """Scale, rotate (counter-clockwise on screen for positive angles) and translate ``(N, 2)`` points."""
    a = math.radians(angle_deg)
    c, s = math.cos(a) * scale, math.sin(a) * scale
    # y points down, so a counter-clockwise turn on screen is x' = c x + s y, y' = -s x + c y.
    m = np.array([[c, -s], [s, c]])
    return points @ m + np.asarray(center, dtype=np.float64)


@lru_cache(maxsize=32)
def _catmull_rom_basis(steps: int) -> np.ndarray:
    t = np.arange(steps) / steps
    t2, t3 = t * t, t * t * t
    return 0.5 * np.stack(
        [-t3 + 2 * t2 - t, 3 * t3 - 5 * t2 + 2, -3 * t3 + 4 * t2 + t, t3 - t2], axis=1
    )


def catmull_rom(points: np.ndarray, closed: bool = False, steps: int = 6) -> np.ndarray:
    """Uniform Catmull–Rom curve that passes exactly through ``points``.

    Open curves get phantom end points by reflection; the result starts at the
    first point and ends at the last (closed curves do not repeat the first).
    """
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 3:
        return p.copy()
    if closed:
        ext = np.concatenate([p[-1:], p, p[:2]])
        nseg = len(p)
    else:
        ext = np.concatenate([2 * p[:1] - p[1:2], p, 2 * p[-1:] - p[-2:-1]])
        nseg = len(p) - 1
    basis = _catmull_rom_basis(steps)  # (steps, 4)
    # Segment j uses control points j .. j+3 of the extended list.
    ctrl = np.stack([ext[0:nseg], ext[1 : nseg + 1], ext[2 : nseg + 2], ext[3 : nseg + 3]], axis=1)
    curve = np.matmul(basis, ctrl).reshape(-1, p.shape[1])
    if not closed:
        curve = np.concatenate([curve, p[-1:]])
    return curve


@lru_cache(maxsize=32)
def _catmull_rom_derivative_basis(steps: int) -> np.ndarray:
    t = np.arange(steps) / steps
    t2 = t * t
    return 0.5 * np.stack(
        [-3 * t2 + 4 * t - 1, 9 * t2 - 10 * t, -9 * t2 + 8 * t + 1, 3 * t2 - 2 * t], axis=1
    )


def spline_matrices(
    curves: Sequence[tuple[Sequence[int], int]], n_points: int
) -> tuple[np.ndarray, np.ndarray, list[slice]]:
    """Linear maps from ``n_points`` control points to open Catmull–Rom curves and their tangents.

    A Catmull–Rom curve is linear in its control points, so every curve of a
    fixed layout is one matrix product: ``curves_xy = M @ points`` and
    ``tangents = D @ points``. ``curves`` lists ``(indices, steps)`` per curve;
    the slices say which rows of ``M`` belong to which curve.
    """
    eye = np.eye(n_points)
    ms, ds, slices, start = [], [], [], 0
    for idx, steps in curves:
        ctrl = eye[list(idx)]
        m = catmull_rom(ctrl, steps=steps)
        ext = np.concatenate([2 * ctrl[:1] - ctrl[1:2], ctrl, 2 * ctrl[-1:] - ctrl[-2:-1]])
        nseg = len(ctrl) - 1
        quad = np.stack(
            [ext[0:nseg], ext[1 : nseg + 1], ext[2 : nseg + 2], ext[3 : nseg + 3]], axis=1
        )
        d = np.matmul(_catmull_rom_derivative_basis(steps), quad).reshape(-1, n_points)
        d_end = 0.5 * (quad[-1, 3] - quad[-1, 1])  # derivative at t = 1 of the last segment
        ms.append(m)
        ds.append(np.concatenate([d, d_end[None]]))
        slices.append(slice(start, start + len(m)))
        start += len(m)
    return np.concatenate(ms), np.concatenate(ds), slices


def unit_normals(tangents: np.ndarray) -> np.ndarray:
    """Tangents turned by +90 degrees in image axes and normalised."""
    n = tangents[:, ::-1] * (-1.0, 1.0)
    return n / np.maximum(np.sqrt((n * n).sum(axis=1, keepdims=True)), 1e-12)


def ellipses(
    centers: np.ndarray, axes: np.ndarray, angles_deg: np.ndarray | float = 0.0, n: int = 32
) -> np.ndarray:
    """``(E, n, 2)`` polygons of ``E`` ellipses at once (``n`` vertices each; see :func:`ellipse`)."""
    centers = np.asarray(centers, dtype=np.float64)
    axes = np.asarray(axes, dtype=np.float64)
    a = np.radians(np.broadcast_to(np.asarray(angles_deg, dtype=np.float64), (len(centers),)))
    ca, sa = np.cos(a), np.sin(a)
    m = np.empty((len(centers), 2, 2))
    m[:, 0, 0], m[:, 0, 1] = axes[:, 0] * ca, axes[:, 0] * sa
    m[:, 1, 0], m[:, 1, 1] = -axes[:, 1] * sa, axes[:, 1] * ca
    return np.matmul(_unit_circle(n)[None], m) + centers[:, None, :]


def normals(curve: np.ndarray) -> np.ndarray:
    """Unit normals (tangent turned by +90 degrees in image axes) at each point of an open curve."""
    d = np.empty_like(curve)
    d[1:-1] = curve[2:] - curve[:-2]
    d[0] = curve[1] - curve[0]
    d[-1] = curve[-1] - curve[-2]
    n = d[:, ::-1] * (-1.0, 1.0)
    return n / np.maximum(np.sqrt((n * n).sum(axis=1, keepdims=True)), 1e-12)


def band(curve: np.ndarray, thickness: np.ndarray | float, side: float = 1.0) -> Polygon:
    """Polygon between an open ``curve`` and the curve offset by ``thickness`` along ``side * normal``.

    One edge of the band is the curve itself, so whatever sits on the curve
    (a landmark) lies exactly on the band's boundary.
    """
    t = np.asarray(thickness, dtype=np.float64)
    off = curve + normals(curve) * (side * t.reshape(-1, 1) if t.ndim else side * float(t))
    return np.concatenate([curve, off[::-1]])


@lru_cache(maxsize=256)
def _unit_circle(n: int) -> np.ndarray:
    t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    c = np.stack([np.cos(t), np.sin(t)], axis=1)
    c.setflags(write=False)
    return c


def ellipse(
    center: Sequence[float], axes: Sequence[float], angle_deg: float = 0.0, tol: float = 0.01
) -> Polygon:
    """Polygon inscribed in an ellipse whose sagitta error is below ``tol`` pixels.

    ``angle_deg`` is the direction of the first axis, measured from the x axis
    towards the y axis (clockwise on screen).
    """
    r = max(float(axes[0]), float(axes[1]), 1e-3)
    n = int(min(720, max(12, 4 * math.ceil(0.25 * math.pi / math.acos(max(1.0 - tol / r, -1.0))))))
    a = math.radians(angle_deg)
    ca, sa = math.cos(a), math.sin(a)
    m = np.array([[axes[0] * ca, axes[0] * sa], [-axes[1] * sa, axes[1] * ca]])
    return _unit_circle(n) @ m + np.asarray(center, dtype=np.float64)


def capsule(p0: Sequence[float], p1: Sequence[float], r0: float, r1: float) -> Polygon:
    """Convex hull of two discs (a tapered limb) as a polygon."""
    c0 = ellipse(p0, (r0, r0), tol=0.02)
    c1 = ellipse(p1, (r1, r1), tol=0.02)
    hull = cv2.convexHull(np.concatenate([c0, c1]).astype(np.float32))
    return hull.reshape(-1, 2).astype(np.float64)


def point_in_polygon(points: np.ndarray, poly: Polygon) -> np.ndarray:
    """Even–odd test of ``(N, 2)`` points against one polygon (boundary counts as either)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = pts[:, 0:1], pts[:, 1:2]
    a, b = poly, np.roll(poly, -1, axis=0)
    ya, yb = a[:, 1][None], b[:, 1][None]
    cross = (ya > y) != (yb > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = a[:, 0][None] + (y - ya) * (b[:, 0] - a[:, 0])[None] / (yb - ya)
    return (cross & (x < xi)).sum(axis=1) % 2 == 1


# --- occluders -----------------------------------------------------------------------------
_SQUARE = np.array([(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)])


def textured_occluder(
    rng: np.random.Generator,
    centre: np.ndarray,
    major: float,
    minor: float,
    width: int,
    height: int,
    brightness: tuple[float, float] | None = (0.6, 1.1),
) -> tuple[Polygon, np.ndarray, dict]:
    """A randomly turned ellipse or rectangle at ``centre``, filled with a crop of a photograph.

    The generators draw the centre and the size themselves (each in its own
    order), then this draws, in this order: the angle, the kind, the photograph,
    its crop and, unless ``brightness`` is ``None``, a brightness factor from
    that range. Keeping this order keeps every generator's data the same for a seed.

    Parameters
    ----------
    rng : numpy.random.Generator
    centre : ndarray (2,)
        Centre in image pixels.
    major, minor : float
        Lengths of the two sides (rectangle) or axes (ellipse) in pixels.
    width, height : int
        Image size; the fill is a ``height x width`` float image.
    brightness : (lo, hi) or None
        Range of the factor the fill is multiplied by; ``None`` leaves it as cropped.

    Returns
    -------
    poly : ndarray (N, 2)
        The outline.
    fill : ndarray (height, width, 3)
        What to paint it with.
    meta : dict
        ``kind``, ``center``, ``size``, ``angle`` and ``texture`` (the photograph's name).
    """
    angle = float(rng.uniform(0, 180))
    if rng.random() < 0.5:
        kind, poly = "ellipse", ellipse(centre, (0.5 * major, 0.5 * minor), angle)
    else:
        kind, poly = "rectangle", similarity(_SQUARE * (major, minor), 1.0, -angle, centre)
    src = BACKGROUND_IMAGES[rng.integers(len(BACKGROUND_IMAGES))]
    fill = random_crop(rng, src, width, height, zoom=(0.5, 2.0))
    if brightness is not None:
        fill = fill * float(rng.uniform(*brightness))
    meta = {
        "kind": kind,
        "center": centre.tolist(),
        "size": [major, minor],
        "angle": angle,
        "texture": src,
    }
    return poly, fill, meta


# --- rasterisation -------------------------------------------------------------------------
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, ends exclusive


def rasterise(
    layers: Sequence[Sequence[Polygon]], width: int, height: int
) -> list[tuple[Box, np.ndarray] | None]:
    """Coverage of each layer (a union of polygons) on a ``height x width`` image, in one pass.

    Each polygon is a simple (non-self-intersecting) ``(N, 2)`` array of ``x, y``
    vertices in image coordinates. Within a layer, pieces may overlap: their
    coverages add and are clipped at 1, which is exact where they do not
    overlap and overstates the pixels that two pieces share in part (draw a
    union whose boundary matters as one polygon, e.g. a :func:`band`).

    Returns
    -------
    list
        Per layer ``(box, cov)``: ``box = (x0, y0, x1, y1)`` the pixel box the
        layer touches and ``cov`` its float32 coverage there; ``None`` for a
        layer that is empty or entirely off the image.
    """
    verts, poly_len, layer_of_poly = [], [], []
    for li, polys in enumerate(layers):
        for p in polys:
            if len(p) >= 3:
                verts.append(p)
                poly_len.append(len(p))
                layer_of_poly.append(li)
    n_layers = len(layers)
    out: list[tuple[Box, np.ndarray] | None] = [None] * n_layers
    if not verts:
        return out
    a = np.concatenate(verts).astype(np.float64, copy=False)
    lens = np.asarray(poly_len)
    n_poly = len(lens)
    poly_id = np.repeat(np.arange(n_poly), lens)
    starts = np.cumsum(lens) - lens
    nxt = np.arange(len(a)) + 1
    nxt[starts + lens - 1] = starts
    b = a[nxt]
    # Signed area orients every polygon so that its inside adds +1 to the winding sum.
    area2 = np.bincount(poly_id, a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1], minlength=n_poly)
    orient = np.where(area2 > 0, -1.0, np.where(area2 < 0, 1.0, 0.0))
    layer_of_poly = np.asarray(layer_of_poly)
    layer = layer_of_poly[poly_id]
    # Pixel box of each layer (polygons are stored layer after layer).
    present = np.unique(layer_of_poly)
    first_vertex = starts[np.searchsorted(layer_of_poly, present)]
    xmin = np.full(n_layers, np.inf)
    ymin = np.full(n_layers, np.inf)
    xmax = np.full(n_layers, -np.inf)
    ymax = np.full(n_layers, -np.inf)
    xmin[present] = np.minimum.reduceat(a[:, 0], first_vertex)
    xmax[present] = np.maximum.reduceat(a[:, 0], first_vertex)
    ymin[present] = np.minimum.reduceat(a[:, 1], first_vertex)
    ymax[present] = np.maximum.reduceat(a[:, 1], first_vertex)
    with np.errstate(invalid="ignore"):
        x0 = np.clip(np.floor(xmin + 0.5) - 1, 0, width)
        y0 = np.clip(np.floor(ymin + 0.5) - 1, 0, height)
        x1 = np.clip(np.floor(xmax + 0.5) + 2, 0, width)
        y1 = np.clip(np.floor(ymax + 0.5) + 2, 0, height)
    absent = ~np.isfinite(xmin)
    x0[absent] = y0[absent] = x1[absent] = y1[absent] = 0
    rw = np.maximum(x1 - x0, 0)
    rh = np.where(rw > 0, np.maximum(y1 - y0, 0), 0)
    stride = rw + 2
    size = rh * stride
    offset = np.cumsum(size) - size
    total_size = int(size.sum())
    if total_size == 0:
        return out
    # Edges in their layer's box coordinates; zero-area polygons drop out.
    keep = orient[poly_id] != 0
    layer, poly_id = layer[keep], poly_id[keep]
    ax = a[keep, 0] - x0[layer]
    ay = a[keep, 1] - y0[layer]
    bx = b[keep, 0] - x0[layer]
    by = b[keep, 1] - y0[layer]
    n_edge = len(ax)
    if n_edge == 0:
        return out
    # Split every edge where it crosses a pixel border inside its layer's box (x = c + 0.5, y = r + 0.5),
    # so that each piece lies in one pixel; the pieces are found by sorting the crossing parameters t.
    eidx = np.arange(n_edge)
    ts, tid = [np.zeros(n_edge), np.ones(n_edge)], [eidx, eidx]
    for p0, p1, lim in ((ax, bx, rw[layer]), (ay, by, rh[layer])):
        c0, c1 = np.floor(p0 + 0.5), np.floor(p1 + 0.5)
        lo = np.maximum(np.minimum(c0, c1), -1)
        hi = np.minimum(np.maximum(c0, c1), lim)
        cnt = np.maximum(hi - lo, 0).astype(np.int64)
        n = int(cnt.sum())
        if n:
            e = np.repeat(eidx, cnt)
            line = lo[e] + (np.arange(n) - (np.cumsum(cnt) - cnt)[e]) + 0.5
            ts.append((line - p0[e]) / (p1[e] - p0[e]))
            tid.append(e)
    t = np.concatenate(ts)
    eid = np.concatenate(tid)
    order = np.argsort(eid + t * 0.5, kind="stable")
    t, eid = t[order], eid[order]
    same = eid[1:] == eid[:-1]
    e = eid[:-1][same]
    t0, t1 = t[:-1][same], t[1:][same]
    dx, dy_e = (bx - ax)[e], (by - ay)[e]
    dy = (t1 - t0) * dy_e
    xm = ax[e] + 0.5 * (t0 + t1) * dx
    ym = ay[e] + 0.5 * (t0 + t1) * dy_e
    lay = layer[e]
    row = np.floor(ym + 0.5)
    ok = (dy != 0) & (row >= 0) & (row < rh[lay])
    dy, xm, row, lay = dy[ok] * orient[poly_id[e[ok]]], xm[ok], row[ok], lay[ok]
    # A piece of vertical extent dy in pixel col = floor(xm + 0.5) covers that pixel by dy times the
    # share of the pixel right of it, (col + 0.5 - xm), and every pixel further right by dy: two entries
    # of a difference array whose running sum along the row is the winding-weighted coverage. The rows
    # of all layers are packed in one buffer; each row's entries sum to zero, so one running sum over
    # the whole buffer gives every row's coverage.
    col = np.floor(xm + 0.5)
    frac = col + 0.5 - xm
    cmax = (rw + 1)[lay]
    base = offset[lay] + row * stride[lay]
    i1 = np.minimum(np.maximum(col + 1, 0), cmax) + base
    i2 = np.minimum(np.maximum(col + 2, 0), cmax) + base
    acc = np.bincount(
        np.concatenate((i1, i2)).astype(np.int64),
        weights=np.concatenate((dy * frac, dy - dy * frac)),
        minlength=total_size,
    )
    cum = np.cumsum(acc)
    np.clip(cum, 0.0, 1.0, out=cum)
    cum = cum.astype(np.float32)
    for li in range(n_layers):
        if size[li] == 0:
            continue
        o, sw, hh, ww = int(offset[li]), int(stride[li]), int(rh[li]), int(rw[li])
        box = (int(x0[li]), int(y0[li]), int(x1[li]), int(y1[li]))
        out[li] = (box, cum[o : o + hh * sw].reshape(hh, sw)[:, 1 : ww + 1])
    return out


def coverage(
    polys: Sequence[Polygon], width: int, height: int, origin: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """Fraction of each pixel of a ``height x width`` grid covered by the union of ``polys``.

    ``origin`` is the image coordinate of the grid's pixel ``(0, 0)``. See
    :func:`rasterise` for the rules.

    Returns
    -------
    ndarray, float32, shape (height, width)
    """
    out = np.zeros((max(height, 0), max(width, 0)), np.float32)
    shifted = [
        np.asarray(p, dtype=np.float64) - np.asarray(origin, dtype=np.float64) for p in polys
    ]
    (res,) = rasterise([shifted], max(width, 0), max(height, 0))
    if res is not None:
        (bx0, by0, bx1, by1), cov = res
        out[by0:by1, bx0:bx1] = cov
    return out


class Canvas:
    """Layers of polygons painted in order onto a float32 RGB image, rasterised in one pass.

    Parameters
    ----------
    image : ndarray, float32, shape (H, W, 3)
        The picture so far (painted in place by :meth:`render`).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((8, 8, 3), np.float32)
    >>> cv = Canvas(img)
    >>> _ = cv.add([np.array([(1.5, 1.5), (5.5, 1.5), (5.5, 5.5), (1.5, 5.5)])], (255, 0, 0))
    >>> cv.render()
    >>> float(img[..., 0].sum() / 255)
    16.0
    """

    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        self.height, self.width = image.shape[:2]
        self._layers: list[Sequence[Polygon]] = []
        self._paint: list[tuple] = []
        self._cov: list[tuple[Box, np.ndarray] | None] | None = None

    def add(
        self,
        polys: Sequence[Polygon],
        color: Sequence[float] | np.ndarray | None,
        clip: int | None = None,
        alpha: float = 1.0,
        texture: np.ndarray | None = None,
        texture_amp: float = 0.0,
    ) -> int:
        """Queue a layer; returns its index.

        ``color`` is an RGB triple, a full-size ``H x W x 3`` image read where
        the layer covers the picture, or ``None`` for a layer that is only used
        as a mask (``clip`` of another layer, or read back with :meth:`coverage`).
        With ``texture`` (a full-size ``H x W`` zero-mean float array) the colour
        is modulated as ``color * (1 + texture_amp * texture)``. ``clip`` is the
        index of an earlier layer whose coverage multiplies this one's.
        """
        self._layers.append([np.asarray(p, dtype=np.float64) for p in polys])
        col = None if color is None else np.asarray(color, dtype=np.float32)
        self._paint.append((col, clip, float(alpha), texture, np.float32(texture_amp)))
        self._cov = None
        return len(self._layers) - 1

    def render(self) -> None:
        """Rasterise every queued layer and composite them in order."""
        self._cov = rasterise(self._layers, self.width, self.height)
        img = self.image
        for li, (color, clip, alpha, texture, amp) in enumerate(self._paint):
            res = self._cov[li]
            if color is None or res is None:
                continue
            (x0, y0, x1, y1), cov = res
            if clip is not None:
                cov = cov * self.coverage(clip, (x0, y0, x1, y1))
            if alpha != 1.0:
                cov = cov * np.float32(alpha)
            region = img[y0:y1, x0:x1]
            col = color[y0:y1, x0:x1] if color.ndim >= 2 else color
            if col.ndim == 2:
                col = col[..., None]
            if texture is not None:
                col = col * (1 + amp * texture[y0:y1, x0:x1])[..., None]
            region += cov[..., None] * (col - region)

    def coverage(self, index: int, box: Box | None = None) -> np.ndarray:
        """Coverage of layer ``index`` over ``box`` (default: the whole image), after :meth:`render`."""
        if self._cov is None:
            raise RuntimeError("call render() first")
        bx = (0, 0, self.width, self.height) if box is None else box
        out = np.zeros((bx[3] - bx[1], bx[2] - bx[0]), np.float32)
        res = self._cov[index]
        if res is None:
            return out
        (x0, y0, x1, y1), cov = res
        ix0, iy0, ix1, iy1 = max(x0, bx[0]), max(y0, bx[1]), min(x1, bx[2]), min(y1, bx[3])
        if ix1 > ix0 and iy1 > iy0:
            out[iy0 - bx[1] : iy1 - bx[1], ix0 - bx[0] : ix1 - bx[0]] = cov[
                iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0
            ]
        return out


# --- photometric finishing -------------------------------------------------------------------
@lru_cache(maxsize=16)
def _ramps(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    u = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    v = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    return u, v


def apply_lighting(image: np.ndarray, gain: float, gradient: tuple[float, float]) -> None:
    """Multiply by ``gain * (1 + gx * u + gy * v)`` with ``u, v`` in ``[-1, 1]`` across the image, in place."""
    h, w = image.shape[:2]
    u, v = _ramps(w, h)
    field = np.float32(gain) * (1.0 + np.float32(gradient[0]) * u + np.float32(gradient[1]) * v)
    image *= field[..., None]


class NoiseBank:
    """Gaussian noise fields cut from one seeded bank (drawing fresh normals per image is slow).

    The bank is ``(2H, 2W, C)``; each image takes a random ``H x W`` window of it,
    randomly flipped, so consecutive images get different fields.
    """

    def __init__(self, seed: int, width: int, height: int, channels: int = 3) -> None:
        rng = np.random.default_rng([seed, 999])
        self.bank = rng.standard_normal((2 * height, 2 * width, channels), dtype=np.float32)
        self.width, self.height = width, height

    def sample(self, rng: np.random.Generator, std: float, channels: int) -> np.ndarray:
        oy, ox, fy, fx = rng.integers(0, (self.height + 1, self.width + 1, 2, 2))
        field = self.bank[oy : oy + self.height, ox : ox + self.width, :channels]
        if fy:
            field = field[::-1]
        if fx:
            field = field[:, ::-1]
        return field * np.float32(std)


def finish(
    image: np.ndarray,
    blur_sigma: float,
    noise_std: float,
    rng: np.random.Generator,
    gray: bool,
    noise: NoiseBank | None = None,
) -> np.ndarray:
    """Blur (Gaussian), add Gaussian noise, clip and round to ``uint8`` (optionally grey)."""
    if blur_sigma > 0.05:
        image = cv2.GaussianBlur(
            image, (0, 0), sigmaX=blur_sigma, sigmaY=blur_sigma, borderType=cv2.BORDER_REFLECT
        )
    if gray:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if noise_std > 0:
        h, w = image.shape[:2]
        c = 1 if image.ndim == 2 else image.shape[2]
        if noise is None or (noise.width, noise.height) != (w, h):
            field = rng.standard_normal((h, w, c), dtype=np.float32) * np.float32(noise_std)
        else:
            field = noise.sample(rng, noise_std, c)
        image = image + (field[..., 0] if image.ndim == 2 else field)
    # Round half up: values are non-negative after clipping.
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def luminance(rgb: Sequence[float] | np.ndarray) -> float | np.ndarray:
    """Rec. 601 luma of an RGB triple or image (what OpenCV's grey conversion uses)."""
    c = np.asarray(rgb, dtype=np.float32)
    return 0.299 * c[..., 0] + 0.587 * c[..., 1] + 0.114 * c[..., 2]


def progress_bar(items: Iterable, enabled: bool, desc: str) -> Iterable:
    """Progress over ``items`` when ``enabled`` (:func:`kplearn.progress.progress_bar`)."""
    if not enabled:
        return items
    from kplearn.progress import progress_bar as _progress_bar

    return _progress_bar(items, True, desc=desc)
