"""Malformed inputs to the readers, the COCO metric and run directories: each a clear error.

Every case is one finding of a fuzzing review (a traceback, a silent acceptance or a
memory blow-up) or a neighbour of one. Each must raise a ``ValueError`` (or
``FileNotFoundError``) whose message names the file, the record where there is one,
and the problem.
"""

from __future__ import annotations

import copy
import json
import re
import struct
import time
import zlib

import cv2
import numpy as np
import pytest

from kplearn.data import formats  # the readers under test, called as formats.NAME
from kplearn.data.faces68 import load_faces68
from kplearn.data.formats import KplearnFormatError, set_image_limits
from kplearn.metrics import coco_keypoint_eval

K = 17  # coco17


# --- a valid COCO file, mutated one field at a time ---------------------------------------------
def _coco() -> dict:
    kp = [10.0, 12.0, 2] * K
    return {
        "images": [{"id": 1, "file_name": "a.png", "width": 32, "height": 24},
                   {"id": 2, "file_name": "b.png", "width": 32, "height": 24}],  # fmt: skip
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "keypoints": list(kp), "num_keypoints": K,
             "bbox": [2.0, 3.0, 20.0, 15.0], "area": 300.0, "iscrowd": 0},
            {"id": 2, "image_id": 2, "category_id": 1, "keypoints": list(kp), "num_keypoints": K,
             "bbox": [2.0, 3.0, 20.0, 15.0], "area": 300.0, "iscrowd": 0},
        ],  # fmt: skip
        "categories": [{"id": 1, "name": "person", "keypoints": [f"k{j}" for j in range(K)],
                        "skeleton": [[1, 2]]}],  # fmt: skip
    }


def _set(path: str, value):
    """A mutation of the COCO dict: ``path`` is ``"annotations.0.image_id"`` etc."""

    def mutate(d):
        *head, last = path.split(".")
        obj = d
        for p in head:
            obj = obj[int(p)] if p.isdigit() else obj[p]
        obj[int(last) if last.isdigit() else last] = value
        return d

    return mutate


COCO_CASES = [
    ("annotations.0.image_id", "1", "annotation #0 (id=1): image_id must be an integer, got the string '1'"),
    ("annotations.0.image_id", [1], "annotation #0 (id=1): image_id must be an integer, got list"),
    ("annotations.0.image_id", 1.0, "image_id must be an integer, got float"),
    ("annotations.0.image_id", None, "image_id must be an integer, got null"),
    ("annotations.1.category_id", "1", "annotation #1 (id=2): category_id must be an integer"),
    ("annotations.1.category_id", {"id": 1}, "category_id must be an integer, got dict"),
    ("annotations.0.image_id", 7, "image_id 7 is not an image id"),
    ("categories.0.skeleton", 5, "category #0 (id=1): skeleton must be a list of [a, b] edges, got int"),
    ("categories.0.skeleton", [[1, 99]], "skeleton edge [1, 99] is not a pair"),
    ("categories.0.skeleton", "1-2", "skeleton must be a list"),
    ("images.0.file_name", "x" * 5000 + ".png", "image #0 (id=1): file_name is 5004 characters long"),
    ("images.0.file_name", "../secret.png", "image #0 (id=1): file_name '../secret.png' leaves the image folder"),
    ("images.1.file_name", "sub/../../secret.png", "image #1 (id=2): file_name 'sub/../../secret.png' leaves"),
    ("images.0.file_name", "..\\secret.png", "leaves the image folder"),
    ("images.0.file_name", "/etc/passwd", "file_name '/etc/passwd' is an absolute path"),
    ("images.0.file_name", "C:\\images\\a.png", "is an absolute path"),
    ("images.0.file_name", "\\\\server\\share\\a.png", "is an absolute path"),
    ("images.0.file_name", "a\x00.png", "holds a NUL byte"),
    ("images.0.file_name", "dir/" + "y" * 300, "path component over 255 characters"),
    ("images.0.file_name", 5, "file_name must be a non-empty string, got int"),
    ("images.0.file_name", "", "file_name must be a non-empty string"),
    ("images.0.width", "32", "width must be a positive integer"),
    ("images.0.height", 0, "height must be a positive integer"),
    ("annotations.0.keypoints.0", 1e308, "keypoints[0] is 1e+308, beyond ±1e+06 px"),
    ("annotations.0.keypoints.1", -1e300, "keypoints[1] is -1e+300, beyond"),
    ("annotations.0.keypoints.0", "10", "keypoints[0] is the string '10', not a number"),
    ("annotations.0.keypoints.0", True, "keypoints[0] is bool, not a number"),
    ("annotations.0.keypoints.2", 3, "keypoint 0 has visibility 3; must be 0, 1 or 2"),
    ("annotations.0.keypoints", [1, 2, 2], "keypoints has 3 values"),
    ("annotations.0.bbox", [1e308, 0, 1e308, 1e308], "bbox[0] is 1e+308, beyond"),
    ("annotations.0.bbox", [0, 0, -5, 5], "negative width or height"),
    ("annotations.0.area", 1e308, "area is 1e+308, over 1e+12 px²"),
    ("annotations.0.area", "300", "area must be a finite number >= 0, got '300'"),
    ("annotations.0.iscrowd", "no", "iscrowd must be 0 or 1, got 'no'"),
    ("annotations.0.iscrowd", True, "iscrowd must be 0 or 1, got True"),
    ("annotations.0.num_keypoints", 3, "num_keypoints is 3 but 17 keypoints have v > 0"),
    ("annotations.1.id", 1, "annotation #1 (id=1): duplicate annotation id 1"),
    ("images.1.id", 1, "image #1 (id=1): duplicate image id 1"),
    ("annotations", {"0": 1}, "top-level field 'annotations' must be a list, got dict"),
    ("categories.0.keypoints", "nose", "keypoints must be a list of keypoint names"),
]


@pytest.mark.parametrize("field, value, message", COCO_CASES, ids=[c[0] + "=" + repr(c[1])[:20] for c in COCO_CASES])
def test_coco_field_errors_name_file_record_and_problem(tmp_path, field, value, message):
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(_set(field, value)(_coco())))
    with pytest.raises(KplearnFormatError) as err:
        formats.read_coco(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        ('{"images": [', "not valid JSON (line 1"),
        ("", "not valid JSON"),
        ("[1, 2]", "top level must be an object"),
        ('{"images": [], "annotations": [], "categories": [], "x": NaN}', None),  # valid: NaN unused
    ],
    ids=["200000-brackets", "truncated", "empty", "list", "nan-token-unused"],
)
def test_coco_file_level_errors(tmp_path, text, message):
    path = tmp_path / "ann.json"
    path.write_text(text)
    if message is None:
        assert formats.read_coco(path)["images"] == []
        return
    with pytest.raises(KplearnFormatError, match=re.escape(message)) as err:
        formats.read_coco(path)
    assert str(path) in str(err.value)


def test_coco_nan_keypoint_in_file(tmp_path):
    text = json.dumps(_coco()).replace("10.0", "NaN", 1)
    path = tmp_path / "ann.json"
    path.write_text(text)
    with pytest.raises(KplearnFormatError, match=r"annotation #0 \(id=1\): keypoints\[0\] is nan"):
        formats.read_coco(path)


def test_coco_not_utf8(tmp_path):
    path = tmp_path / "ann.json"
    path.write_bytes(b'{"images": "\xff\xfe"}')
    with pytest.raises(KplearnFormatError, match="not UTF-8"):
        formats.read_coco(path)


# --- image files: limits checked before decoding ------------------------------------------------
def _png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares ``width × height`` (the pixel data is truncated)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _image_dir(tmp_path, names=("a.png", "b.png")):
    d = tmp_path / "images"
    d.mkdir(exist_ok=True)
    for n in names:
        cv2.imwrite(str(d / n), np.full((24, 32, 3), 100, np.uint8))
    return d


def test_png_declaring_20000_squared_is_refused_from_its_header(tmp_path):
    d = _image_dir(tmp_path)
    (d / "a.png").write_bytes(_png_declaring(20000, 20000))
    assert (d / "a.png").stat().st_size < 50_000
    start = time.perf_counter()
    with pytest.raises(KplearnFormatError) as err:
        formats.coco_to_dataset(_coco(), d, progress=False)
    assert time.perf_counter() - start < 2.0  # nothing was decoded
    msg = str(err.value)
    assert "<coco dict>: image #0 (id=1)" in msg and "20000 × 20000 pixels" in msg
    assert "100,000,000" in msg and "not decoded" in msg


def test_pixel_limit_is_configurable(tmp_path):
    d = _image_dir(tmp_path)
    old = set_image_limits(max_pixels=32 * 24 - 1)
    try:
        with pytest.raises(KplearnFormatError, match="32 × 24 pixels, over the limit of 767"):
            formats.read_image(d / "a.png")
    finally:
        set_image_limits(**old)
    assert formats.read_image(d / "a.png").shape == (24, 32, 3)


@pytest.mark.parametrize("ext, code", [(".jpg", cv2.IMWRITE_JPEG_QUALITY), (".bmp", None), (".png", None)])
def test_header_size_is_read_for_common_formats(tmp_path, ext, code):
    from kplearn._checks import image_file_size

    path = tmp_path / f"x{ext}"
    cv2.imwrite(str(path), np.zeros((21, 37, 3), np.uint8))
    assert image_file_size(path) == (37, 21)


def test_huge_file_is_refused_by_its_size_before_reading(tmp_path):
    d = _image_dir(tmp_path)
    with open(d / "a.png", "r+b") as f:  # a sparse 600 MiB file: nothing is written to disk
        f.truncate(600 * 2**20)
    start = time.perf_counter()
    with pytest.raises(KplearnFormatError, match=r"image #0 \(id=1\): image file .*600 MiB, over the 512 MiB"):
        formats.coco_to_dataset(_coco(), d, progress=False)
    assert time.perf_counter() - start < 2.0


def test_file_name_escaping_the_folder_is_not_read(tmp_path):
    d = _image_dir(tmp_path)
    cv2.imwrite(str(tmp_path / "outside.png"), np.zeros((24, 32, 3), np.uint8))  # exists, must not be read
    data = _set("images.0.file_name", "../outside.png")(_coco())
    with pytest.raises(KplearnFormatError, match="leaves the image folder"):
        formats.coco_to_dataset(data, d, progress=False)


def test_undecodable_and_wrong_size_images(tmp_path):
    d = _image_dir(tmp_path)
    (d / "a.png").write_bytes(b"not an image at all")
    with pytest.raises(KplearnFormatError, match=r"image #0 \(id=1\): image file .*cannot decode"):
        formats.coco_to_dataset(_coco(), d, progress=False)
    _image_dir(tmp_path)
    cv2.imwrite(str(d / "b.png"), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(KplearnFormatError, match="is 10x10, the annotation says 32x24"):
        formats.coco_to_dataset(_coco(), d, progress=False)


# --- MPII ---------------------------------------------------------------------------------------
def _mpii() -> list[dict]:
    return [{"image": "a.png", "center": [16.0, 12.0], "scale": 0.1,
             "joints": [[10.0, 11.0]] * 16, "joints_vis": [1] * 16}]  # fmt: skip


MPII_CASES = [
    ("scale", 1e308, "record #0 (image='a.png'): scale is 1e+308: a person box of inf px"),
    ("scale", 1e5, "scale is 100000: a person box of 2e+07 px"),
    ("scale", "1", "scale must be a finite number, got '1'"),
    ("scale", 0, "scale is 0; the person box size must be positive"),
    ("center", [1e308, 0.0], "center[0] is 1e+308, beyond"),
    ("joints", [[1e308, 0.0]] * 16, "joints[0][0] is 1e+308, beyond"),
    ("joints", [[1.0, 2.0]] * 15, "joints has 15 rows, layout mpii16 needs 16"),
    ("joints_vis", [2] * 16, "joints_vis[0] is 2; must be 0 or 1"),
    ("image", "../../x.png", "image '../../x.png' leaves the image folder"),
    ("image", "/abs/x.png", "image '/abs/x.png' is an absolute path"),
    ("image", 7, "image must be a non-empty string, got int"),
    ("headbox", [[0, 0], [-1e308, 5]], "headbox corner[0] is -1e+308, beyond"),
    ("headbox", [[5, 5], [0, 0]], "negative width or height"),
]


@pytest.mark.parametrize("field, value, message", MPII_CASES, ids=[f"{c[0]}={c[1]!r}"[:30] for c in MPII_CASES])
def test_mpii_errors(tmp_path, field, value, message):
    recs = _mpii()
    recs[0][field] = value
    path = tmp_path / "mpii.json"
    path.write_text(json.dumps(recs))
    with pytest.raises(KplearnFormatError) as err:
        formats.read_mpii_json(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_mpii_top_level_and_record_types(tmp_path):
    for data, message in (({"a": 1}, "top level must be a list"), ([5], r"record #0 \(image=None\): must be an object")):
        path = tmp_path / "m.json"
        path.write_text(json.dumps(data))
        with pytest.raises(KplearnFormatError, match=message):
            formats.read_mpii_json(path)


def test_mpii_valid_record_still_reads(tmp_path):
    d = _image_dir(tmp_path, ["a.png"])
    ds = formats.mpii_to_dataset(_mpii(), d, progress=False)
    assert np.all(np.isfinite(ds[0].boxes)) and ds[0].keypoints.shape == (1, 16, 3)


# --- faces68 CSV and .pts -----------------------------------------------------------------------
HEADER = "," + ",".join(str(j) for j in range(136)) + "\n"


def _row(name: str, value: str = "1.5") -> str:
    return name + "," + ",".join([value] * 136) + "\n"


def test_csv_with_bom_reads(tmp_path):
    path = tmp_path / "k.csv"
    path.write_bytes("\ufeff".encode() + (HEADER + _row("a.png")).encode())
    names, kp = formats.read_faces68_csv(path)
    assert names == ["a.png"] and kp.shape == (1, 68, 2)


@pytest.mark.parametrize(
    "body, message",
    [
        ("\n\n" + _row("a.png") + "\n" + _row("b.png", "x"), "line 6 (name='b.png'): x0 is 'x', not a number"),
        ("\r\n" + _row("a.png") + "\r\n\r\n" + _row("a.png"), "line 6 (name='a.png'): duplicate name (first on line 3)"),
        (_row("a.png", "1e308"), "line 2 (name='a.png'): x0 is 1e+308, beyond ±1e+06 px"),
        (_row("a.png", "nan"), "x0 is nan (NaN or infinite)"),
        (_row("a.png")[:-5] + "\n", "has 135 values, layout faces68 needs 136"),
        (_row(""), "empty image name"),
        ("", "no landmark rows after the header"),
    ],
    ids=["blank-lines", "crlf-blank-dup", "1e308", "nan", "short-row", "empty-name", "no-rows"],
)
def test_csv_errors_name_the_right_line(tmp_path, body, message):
    path = tmp_path / "k.csv"
    path.write_bytes("\ufeff".encode() + (HEADER + body).encode())  # with a BOM: line numbers unchanged
    with pytest.raises(KplearnFormatError) as err:
        formats.read_faces68_csv(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_faces68_folder_names_the_csv_line_with_blank_lines_and_refuses_escapes(tmp_path):
    root = tmp_path / "faces68"
    (root / "images").mkdir(parents=True)
    cv2.imwrite(str(root / "images" / "a.png"), np.zeros((8, 8, 3), np.uint8))
    (root / "keypoints.csv").write_text(HEADER + "\n" + _row("a.png") + "\n" + _row("missing.png"))
    with pytest.raises(KplearnFormatError, match=r"line 5 \(name='missing.png'\): image file .* not found"):
        load_faces68(root, progress=False)
    (root / "keypoints.csv").write_text(HEADER + _row("../../outside.png"))
    with pytest.raises(KplearnFormatError, match=r"line 2 \(name='../../outside.png'\): name .* leaves"):
        load_faces68(root, progress=False)


@pytest.mark.parametrize(
    "text, message",
    [
        ("version: 1\nn_points: 2\n{\n1e308 2\n3 4\n}\n", "line 4 (point 0): coordinate beyond ±1e+06 px"),
        ("\ufeffversion: 1\nn_points: 1\n{\n1 2\n}\n", None),
        ("version: 1\nn_points: 2\n{\n1 2\n}\n", "n_points says 2 but the file lists 1 points"),
        ("version: 1\nn_points: x\n{\n1 2\n}\n", "n_points is 'x', not an integer"),
        ("version: 1\nn_points: 1\n{\n1 two\n}\n", "expected two numbers"),
        ("version: 1\nn_points: 1\n{\n1 2\n", "missing closing '}'"),
    ],
    ids=["1e308", "bom", "count", "n_points", "word", "no-brace"],
)
def test_pts_errors(tmp_path, text, message):
    path = tmp_path / "f.pts"
    path.write_text(text, encoding="utf-8")
    if message is None:
        assert formats.read_pts(path).tolist() == [[1.0, 2.0]]
        return
    with pytest.raises(KplearnFormatError) as err:
        formats.read_pts(path)
    assert message in str(err.value) and str(path) in str(err.value)


# --- the COCO metric ----------------------------------------------------------------------------
def _gt_dt():
    gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "keypoints": [10, 10, 2] * 3,
                           "num_keypoints": 3, "area": 400.0, "bbox": [0, 0, 20, 20], "iscrowd": 0}]}  # fmt: skip
    dt = [{"image_id": 1, "category_id": 1, "keypoints": [10, 10, 1] * 3, "score": 0.9}]
    return gt, dt


METRIC_CASES = [
    ("dt", "score", "0.9", "detection #0: 'score' is str '0.9', not a number"),
    ("dt", "score", True, "detection #0: 'score' is bool True, not a number"),
    ("dt", "score", None, "detection #0: 'score' is NoneType"),
    ("dt", "keypoints", ["10", "10", "1"] * 3, "detection #0: 'keypoints'[0] is str '10', not a number"),
    ("dt", "keypoints", [10, None, 1] * 3, "detection #0: 'keypoints'[1] is NoneType"),
    ("dt", "keypoints", "10,10,1", "detection #0: 'keypoints' must be a list of numbers, got str"),
    ("gt", "iscrowd", "no", "gt annotation #0: 'iscrowd' must be 0 or 1, got 'no'"),
    ("gt", "iscrowd", 2, "'iscrowd' must be 0 or 1, got 2"),
    ("gt", "num_keypoints", "3", "gt annotation #0: 'num_keypoints' is str '3', not a number"),
    ("gt", "area", "400", "gt annotation #0: 'area' is str '400', not a number"),
    ("gt", "keypoints", ["10", "10", "2"] * 3, "gt annotation #0: 'keypoints'[0] is str '10'"),
    ("dt", "image_id", [1], "detections refer to image ids not in the ground truth"),
]


@pytest.mark.parametrize("which, key, value, message", METRIC_CASES,
                         ids=[f"{c[0]}.{c[1]}={c[2]!r}"[:30] for c in METRIC_CASES])  # fmt: skip
def test_coco_keypoint_eval_refuses_coercions(which, key, value, message):
    gt, dt = _gt_dt()
    (dt[0] if which == "dt" else gt["annotations"][0])[key] = value
    with pytest.raises(ValueError) as err:
        coco_keypoint_eval(gt, dt, sigmas=[0.1] * 3)
    assert message in str(err.value)


def test_coco_keypoint_eval_accepts_bool_crowd_flags_and_numpy_numbers():
    gt, dt = _gt_dt()
    gt["annotations"][0]["iscrowd"] = False
    dt[0]["score"] = np.float32(0.9)
    dt[0]["keypoints"] = np.array(dt[0]["keypoints"], np.float64)
    assert coco_keypoint_eval(gt, dt, sigmas=[0.1] * 3)["AP"] == pytest.approx(1.0)


# --- run directories ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def deep_run(tmp_path_factory):
    from kplearn.models import build_model
    from kplearn.train.checkpoint import save_checkpoint

    net = build_model("regression", "faces5", input_size=(32, 32), widths=[4, 8], hidden=8, blocks=1, reduce=8)
    return save_checkpoint(net, tmp_path_factory.mktemp("run"))


def _copy_run(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


RUN_CASES = [
    (lambda c: c.update(model_config=5), "'model_config' must be an object, got int"),
    (lambda c: c.update(model_config=[1, 2]), "'model_config' must be an object, got list"),
    (lambda c: c.update(skeleton="faces5"), "'skeleton' must be an object, got the string 'faces5'"),
    (lambda c: c["model_config"].update(input_size="64x64"), "model_config.input_size: expected an int or a (width, height) pair, got the string '64x64'"),
    (lambda c: c["model_config"].update(input_size="64"), "got the string '64'"),
    (lambda c: c["model_config"].update(input_size=[60000, 60000]), "model_config.input_size[0]: must be at most 2048, got 60000"),
    (lambda c: c.update(input_size=[64]), "input_size: expected a (width, height) pair, got 1 values"),
    (lambda c: c["model_config"].update(widths=[65536, 8]), "model_config.widths[0]: must be at most 1024, got 65536"),
    (lambda c: c["model_config"].update(widths=["4", 8]), "model_config.widths[0]: expected an integer, got the string '4'"),
    (lambda c: c["model_config"].update(hidden=-3), "model_config.hidden: must be at least 1, got -3"),
    (lambda c: c["model_config"].update(blocks=1.5), "model_config.blocks: expected a whole number, got 1.5"),
    (lambda c: c["model_config"].update(num_keypoints="5"), "model_config.num_keypoints: expected an integer"),
    (lambda c: c["model_config"].update(num_keypoints=68), "model has 68 keypoints but layout 'faces5' has 5"),
    (lambda c: c["model_config"].update(name="nope"), "unknown model 'nope'"),
    (lambda c: c["model_config"].update(dropout="x"), "'model_config' does not build a network"),
    (lambda c: c.update(padding="1.25"), "padding: expected a number, got the string '1.25'"),
    (lambda c: c.update(padding=0), "padding: must be positive"),
    (lambda c: c["skeleton"].pop("keypoint_names"), "'skeleton' is not a valid layout"),
    (lambda c: c.pop("model_config"), "is missing 'model_config'"),
]


@pytest.mark.parametrize("mutate, message", RUN_CASES, ids=[f"run{i}" for i in range(len(RUN_CASES))])
def test_bad_run_config_is_a_clear_error(deep_run, tmp_path, mutate, message):
    from kplearn.train.checkpoint import load_checkpoint

    run = _copy_run(deep_run, tmp_path / "run")
    cfg = json.loads((run / "config.json").read_text())
    mutate(cfg)
    (run / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError) as err:
        load_checkpoint(run)
    assert "config.json" in str(err.value) and message in str(err.value)


@pytest.mark.parametrize(
    "setup, error, message",
    [
        (lambda r: (r / "config.json").write_text("[1, 2]"), ValueError, "no 'family' entry"),
        (lambda r: (r / "config.json").write_text("{"), ValueError, "invalid JSON"),
        (lambda r: (r / "config.json").write_bytes(b'{"family": "\xff"}'), ValueError, "not UTF-8"),
        (lambda r: (r / "config.json").write_text('{"family": "shallow"}'), ValueError, "unknown model family 'shallow'"),
        (lambda r: (r / "model.pt").unlink(), FileNotFoundError, "model.pt' not found"),
        (lambda r: (r / "model.pt").write_bytes(b"garbage"), ValueError, "could not be read as a weights-only state dict"),
        (lambda r: (r / "config.json").unlink(), FileNotFoundError, "is not a kplearn run directory"),
    ],
    ids=["list", "truncated", "not-utf8", "family", "no-weights", "bad-weights", "no-config"],
)
def test_bad_run_directory_files(deep_run, tmp_path, setup, error, message):
    from kplearn.train.checkpoint import load_checkpoint

    run = _copy_run(deep_run, tmp_path / "run")
    setup(run)
    with pytest.raises(error, match=message):
        load_checkpoint(run)


@pytest.mark.parametrize(
    "params, message",
    [({"work_size": 65536}, "work_size: must be at most 1024, got 65536"),
     ({"work_size": "80"}, "work_size: expected an integer, got the string '80'"),
     ({"bogus": 1}, "unexpected keyword argument 'bogus'")],  # fmt: skip
    ids=["huge", "string", "unknown"],
)
def test_bad_classical_run_params(tmp_path, params, message):
    from kplearn.classical.baselines import MeanShape

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"family": "classical", "model": MeanShape.name,
                                                 "skeleton": "faces68", "num_keypoints": 68,
                                                 "params": params}))  # fmt: skip
    with pytest.raises(ValueError, match=f"config.json: parameters do not fit {MeanShape.name}") as err:
        MeanShape.load(run)
    assert message in str(err.value)


def test_the_case_count():
    """The review asked for at least 60 cases across readers, metric and run directories."""
    assert len(COCO_CASES) + len(MPII_CASES) + len(METRIC_CASES) + len(RUN_CASES) >= 60
    assert copy.deepcopy(_coco()) == _coco()
    assert formats.MAX_FILE_NAME == 1024
