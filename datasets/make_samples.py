"""Make the tiny sample files in datasets/ (run from the repository root).

    python datasets/make_samples.py

Everything here is drawn by this script from hand-made templates (no real
images, no copied data), with a fixed seed, so re-running it reproduces the
files byte for byte. Each format folder holds a few images and the annotation
file in the exact upstream layout:

- coco/    person_keypoints_tiny.json + images/   (COCO keypoints, 0-based)
- mpii/    mpii_tiny.json + images/               (HRNet/MMPose JSON, 1-based as distributed)
- faces68_layout/ keypoints.csv + images/           (the faces68 folder layout)
- pts/     *.pts + same-stem .png                 (iBUG .pts)
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from kplearn.data.formats import MPII16, write_faces68_csv, write_image, write_pts
from kplearn.skeletons import COCO17, FACES68

HERE = Path(__file__).resolve().parent
RNG = np.random.default_rng(20240611)


# --- templates (unit box: x, y in [0, 1]) ------------------------------------
def face_template() -> np.ndarray:
    """A frontal 68-point face in iBUG 300-W order, in a unit box."""
    cx, cy, a, b = 0.5, 0.45, 0.38, 0.45
    pts = []
    for i in range(17):  # jaw: subject's right (image left) round the chin to the left
        t = np.pi - i * np.pi / 16
        pts.append((cx + a * np.cos(t), cy + b * np.sin(t)))
    eye_y = 0.42
    for i in range(5):  # right brow, outer to inner
        x = cx - 0.75 * a + i * 0.15 * a
        pts.append((x, eye_y - 0.12 - 0.03 * np.sin(np.pi * i / 4)))
    for i in range(5):  # left brow, inner to outer
        x = cx + 0.15 * a + i * 0.15 * a
        pts.append((x, eye_y - 0.12 - 0.03 * np.sin(np.pi * (4 - i) / 4)))
    for i in range(4):  # nose bridge
        pts.append((cx, eye_y + 0.03 + i * 0.05))
    for i in range(5):  # nose base
        pts.append((cx - 0.08 + 0.04 * i, 0.64 - 0.015 * (2 - abs(i - 2))))
    for ex in (cx - 0.4 * a, cx + 0.4 * a):  # eyes: corner, top, top, corner, bottom, bottom
        w, h = 0.07, 0.025
        for t in (np.pi, 2 * np.pi / 3, np.pi / 3, 0.0, -np.pi / 3, -2 * np.pi / 3):
            pts.append((ex + w * np.cos(t), eye_y - h * np.sin(t)))
    mx, my = cx, 0.76
    for i in range(12):  # outer lips from the right corner (image left)
        t = np.pi - i * 2 * np.pi / 12
        pts.append((mx + 0.14 * np.cos(t), my - 0.05 * np.sin(t)))
    for i in range(8):  # inner lips
        t = np.pi - i * 2 * np.pi / 8
        pts.append((mx + 0.09 * np.cos(t), my - 0.02 * np.sin(t)))
    out = np.array(pts)
    assert out.shape == (68, 2)
    return out


_COCO_BODY = {
    "nose": (0.5, 0.1), "left_eye": (0.53, 0.08), "right_eye": (0.47, 0.08),
    "left_ear": (0.57, 0.09), "right_ear": (0.43, 0.09),
    "left_shoulder": (0.64, 0.22), "right_shoulder": (0.36, 0.22),
    "left_elbow": (0.7, 0.38), "right_elbow": (0.3, 0.38),
    "left_wrist": (0.73, 0.52), "right_wrist": (0.27, 0.52),
    "left_hip": (0.59, 0.55), "right_hip": (0.41, 0.55),
    "left_knee": (0.6, 0.75), "right_knee": (0.4, 0.75),
    "left_ankle": (0.61, 0.95), "right_ankle": (0.39, 0.95),
}  # fmt: skip

_MPII_BODY = {
    "r_ankle": (0.39, 0.95), "r_knee": (0.4, 0.75), "r_hip": (0.41, 0.55),
    "l_hip": (0.59, 0.55), "l_knee": (0.6, 0.75), "l_ankle": (0.61, 0.95),
    "pelvis": (0.5, 0.55), "thorax": (0.5, 0.22), "upper_neck": (0.5, 0.17),
    "head_top": (0.5, 0.02), "r_wrist": (0.27, 0.52), "r_elbow": (0.3, 0.38),
    "r_shoulder": (0.36, 0.22), "l_shoulder": (0.64, 0.22), "l_elbow": (0.7, 0.38),
    "l_wrist": (0.73, 0.52),
}  # fmt: skip


def place(
    template: np.ndarray, box: tuple[float, float, float, float], jitter: float
) -> np.ndarray:
    """Template points in the pixel box ``(x, y, w, h)``, jittered, rounded to 0.01 px."""
    x, y, w, h = box
    pts = template * [w, h] + [x, y] + RNG.normal(0, jitter, template.shape)
    return np.round(pts, 2)


# --- drawing -------------------------------------------------------------------
def canvas(w: int, h: int) -> np.ndarray:
    """A smooth random background (RGB)."""
    base = RNG.integers(60, 200, size=3)
    ramp = np.linspace(-25, 25, w)[None, :, None]
    img = np.clip(base[None, None, :] + ramp + np.zeros((h, w, 3)), 0, 255)
    return img.astype(np.uint8)


def draw(img: np.ndarray, pts: np.ndarray, edges, color, visible=None) -> None:
    sub = 4  # sub-pixel drawing: cv2 shift bits
    p = np.round((pts + 0.0) * (1 << sub)).astype(np.int32)
    vis = np.ones(len(pts), bool) if visible is None else visible
    for a, b in edges:
        if vis[a] and vis[b]:
            cv2.line(img, tuple(p[a]), tuple(p[b]), color, 1, cv2.LINE_AA, sub)
    for j in np.flatnonzero(vis):
        cv2.circle(img, tuple(p[j]), 1 << sub, color, -1, cv2.LINE_AA, sub)


def draw_face(img: np.ndarray, pts: np.ndarray) -> None:
    centre = pts[:17].mean(0)
    axes = (int((pts[16, 0] - pts[0, 0]) / 2 + 2), int((pts[8, 1] - pts[19, 1]) / 1.6))
    cv2.ellipse(
        img, (int(centre[0]), int(centre[1] - axes[1] * 0.25)), axes, 0, 0, 360, (222, 184, 150), -1
    )
    draw(img, pts, FACES68.edges, (90, 40, 30))


# --- COCO ---------------------------------------------------------------------
def rle_of_box(box, w: int, h: int) -> dict:
    """Uncompressed COCO RLE (column-major runs, starting with zeros) of a box mask."""
    mask = np.zeros((h, w), np.uint8)
    x, y, bw, bh = (int(round(v)) for v in box)
    mask[y : y + bh, x : x + bw] = 1
    flat = mask.flatten(order="F")
    counts, cur, run = [], 0, 0
    for px in flat:
        if px != cur:
            counts.append(run)
            cur, run = px, 0
        run += 1
    counts.append(run)
    return {"counts": [int(c) for c in counts], "size": [h, w]}


def make_coco() -> None:
    root = HERE / "coco"
    template = np.array([_COCO_BODY[n] for n in COCO17.keypoint_names])
    # image: size, then people as (box, visibility overrides {index: v})
    plan = [
        ((96, 72), [((8, 6, 36, 62), {3: 1, 4: 0}), ((52, 8, 34, 60), {9: 0, 10: 0, 15: 1})]),
        ((64, 80), [((14, 10, 38, 66), {})]),
        ((48, 48), []),  # an image with nobody in it
    ]
    images, annotations = [], []
    ann_id = 1
    for i, ((w, h), people) in enumerate(plan):
        img = canvas(w, h)
        name = f"{i + 1:012d}.png"
        for box, vis_over in people:
            pts = place(template, box, 0.4)
            v = np.full(17, 2)
            for j, vj in vis_over.items():
                v[j] = vj
            draw(img, pts, COCO17.edges, (250, 250, 250), visible=v > 0)
            kp = []
            for (x, y), vj in zip(pts, v, strict=True):
                kp += [0, 0, 0] if vj == 0 else [float(x), float(y), int(vj)]
            lab = pts[v > 0]
            x0, y0 = np.floor(lab.min(0) - 2)
            x1, y1 = np.ceil(lab.max(0) + 2)
            bbox = [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
            seg = [[x0, y0, x1, y0, x1, y1, x0, y1]]
            annotations.append(
                {
                    "segmentation": [[float(c) for c in seg[0]]],
                    "num_keypoints": int(np.sum(v > 0)),
                    "area": float(0.7 * bbox[2] * bbox[3]),
                    "iscrowd": 0,
                    "keypoints": kp,
                    "image_id": i + 1,
                    "bbox": bbox,
                    "category_id": 1,
                    "id": ann_id,
                }
            )
            ann_id += 1
        if i == 1:  # a crowd region: no keypoints, an RLE mask, as COCO marks crowds
            crowd = [44.0, 40.0, 16.0, 30.0]
            annotations.append(
                {
                    "segmentation": rle_of_box(crowd, w, h),
                    "num_keypoints": 0,
                    "area": float(crowd[2] * crowd[3]),
                    "iscrowd": 1,
                    "keypoints": [0] * 51,
                    "image_id": i + 1,
                    "bbox": crowd,
                    "category_id": 1,
                    "id": ann_id,
                }
            )
            ann_id += 1
        write_image(root / "images" / name, img)
        images.append(
            {
                "license": 1,
                "file_name": name,
                "coco_url": "",
                "height": h,
                "width": w,
                "date_captured": "2024-06-11 00:00:00",
                "flickr_url": "",
                "id": i + 1,
            }
        )
    data = {
        "info": {
            "description": "kplearn tiny COCO keypoints sample (drawn by datasets/make_samples.py)",
            "url": "",
            "version": "1.0",
            "year": 2024,
            "contributor": "kplearn",
            "date_created": "2024/06/11",
        },
        "licenses": [{"url": "https://opensource.org/licenses/MIT", "id": 1, "name": "MIT"}],
        "images": images,
        "annotations": annotations,
        "categories": [
            {
                "supercategory": "person",
                "id": 1,
                "name": "person",
                "keypoints": list(COCO17.keypoint_names),
                "skeleton": [[a + 1, b + 1] for a, b in COCO17.edges],
            }
        ],
    }
    (root / "person_keypoints_tiny.json").write_text(json.dumps(data) + "\n", encoding="utf-8")


# --- MPII ----------------------------------------------------------------------
def make_mpii() -> None:
    root = HERE / "mpii"
    template = np.array([_MPII_BODY[n] for n in MPII16.keypoint_names])
    plan = [
        (
            "000000001.png",
            (120, 90),
            [((10, 8, 44, 78), {}), ((64, 10, 42, 76), {0: 0, 5: 0, 15: 0})],
        ),
        ("000000002.png", (80, 96), [((18, 8, 46, 84), {10: 0})]),
    ]
    records = []
    for name, (w, h), people in plan:
        img = canvas(w, h)
        for box, vis_over in people:
            pts = place(template, box, 0.4)
            vis = np.ones(16, int)
            for j, vj in vis_over.items():
                vis[j] = vj
            draw(img, pts, MPII16.edges, (250, 250, 250), visible=vis > 0)
            # The distributed MPII JSON is 1-based (MATLAB): store drawn pixel + 1.
            joints = [
                [float(x + 1), float(y + 1)] if vj else [-1.0, -1.0]
                for (x, y), vj in zip(pts, vis, strict=True)
            ]
            centre = [
                float(round(box[0] + box[2] / 2 + 1)),
                float(round(box[1] + box[3] * 0.45 + 1)),
            ]
            records.append(
                {
                    "joints_vis": vis.tolist(),
                    "joints": joints,
                    "image": name,
                    "scale": round(box[3] / 200.0, 6),
                    "center": centre,
                }
            )
        write_image(root / "images" / name, img)
    (root / "mpii_tiny.json").write_text(json.dumps(records) + "\n", encoding="utf-8")


# --- faces68 and .pts ----------------------------------------------------------------
def make_faces68() -> None:
    root = HERE / "faces68_layout"
    template = face_template()
    names, rows = [], []
    for name in (
        "Ada_Example_01.jpg",
        "Ada_Example_02.jpg",
        "Ben_Sample_01.jpg",
        "Ben_Sample_01b.jpg",
    ):
        img = canvas(64, 64)
        pts = place(template, (8 + RNG.uniform(-2, 2), 6 + RNG.uniform(-2, 2), 48, 52), 0.3)
        draw_face(img, pts)
        write_image(root / "images" / name, img)
        names.append(name)
        rows.append(pts)
    write_faces68_csv(root / "keypoints.csv", names, np.array(rows))


def make_pts() -> None:
    root = HERE / "pts"
    template = face_template()
    for i in range(2):
        img = canvas(72, 72)
        pts = place(template, (10 + 3 * i, 8, 52, 56), 0.3)
        draw_face(img, pts)
        write_image(root / f"face_{i + 1:03d}.png", img)
        write_pts(root / f"face_{i + 1:03d}.pts", pts)


if __name__ == "__main__":
    make_coco()
    make_mpii()
    make_faces68()
    make_pts()
    print("wrote sample files under", HERE)
