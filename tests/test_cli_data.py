"""`kplearn data`: list, show, stats (against counts taken straight from the JSON), export."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kplearn.cli import main
from kplearn.data import load_data, load_faces68
from kplearn.data.formats import coco_to_dataset, read_faces68_csv, read_image

SAMPLES = Path(__file__).resolve().parents[1] / "datasets"
COCO_JSON = SAMPLES / "coco" / "person_keypoints_tiny.json"
MPII_JSON = SAMPLES / "mpii" / "mpii_tiny.json"
COCO_SPEC = f"coco:{COCO_JSON}:{SAMPLES}/coco/images"
MPII_SPEC = f"mpii:{MPII_JSON}:{SAMPLES}/mpii/images"


def run(capsys, *argv):
    code = main(["data", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for kind in ("synthetic-faces", "faces68:PATH", "coco:ANNOTATIONS.json:IMAGE_DIR", "pts:DIR"):
        assert kind in out
    assert "coco17" in out and "mpii16" in out and "faces68" in out


@pytest.mark.parametrize("command", [[], ["list"], ["show"], ["stats"], ["export"]])
def test_help_on_every_command(command):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), pytest.raises(SystemExit) as exit_info:
        main(["data", *command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: kplearn data" in buf.getvalue()


def test_stats_coco_agrees_with_json(capsys):
    raw = json.loads(COCO_JSON.read_text())
    code, out, _ = run(capsys, "stats", COCO_SPEC, "--json", "--no-progress")
    assert code == 0
    st = json.loads(out)
    vis = [v for a in raw["annotations"] for v in a["keypoints"][2::3]]
    assert st["images"] == len(raw["images"])
    assert st["instances"] == len(raw["annotations"])
    assert st["crowd_instances"] == sum(a["iscrowd"] for a in raw["annotations"])
    assert st["labelled_keypoints"] == sum(v > 0 for v in vis)
    assert st["labelled_keypoints"] == sum(a["num_keypoints"] for a in raw["annotations"])
    assert st["visible_keypoints"] == sum(v == 2 for v in vis)
    names = raw["categories"][0]["keypoints"]
    per = st["layouts"]["coco17"]["per_keypoint"]
    for j, name in enumerate(names):
        col = [a["keypoints"][3 * j + 2] for a in raw["annotations"]]
        assert per[name] == {
            "labelled": sum(v > 0 for v in col),
            "visible": sum(v == 2 for v in col),
        }


def test_stats_mpii_agrees_with_json(capsys):
    raw = json.loads(MPII_JSON.read_text())
    code, out, _ = run(capsys, "stats", MPII_SPEC, "--json", "--no-progress")
    assert code == 0
    st = json.loads(out)
    assert st["images"] == len({r["image"] for r in raw})
    assert st["instances"] == len(raw)
    assert st["labelled_keypoints"] == sum(sum(r["joints_vis"]) for r in raw)
    # MPII's JSON has no hidden/visible distinction: every labelled joint counts as visible
    assert st["visible_keypoints"] == st["labelled_keypoints"]
    per = st["layouts"]["mpii16"]["per_keypoint"]
    assert per["r_ankle"]["labelled"] == sum(r["joints_vis"][0] for r in raw)


def test_stats_text_output(capsys):
    code, out, _ = run(capsys, "stats", MPII_SPEC, "--no-progress")
    assert code == 0 and "labelled keypoints" in out and "layout mpii16" in out


def test_show_writes_png(capsys, tmp_path):
    out_png = tmp_path / "grid.png"
    code, out, _ = run(
        capsys, "show", COCO_SPEC, "--n", "3", "--out", str(out_png), "--no-progress"
    )
    assert code == 0 and "wrote" in out
    img = read_image(out_png)
    assert img.shape[0] > 100 and img.shape[1] > 100
    assert img.std() > 0  # something was drawn


def test_export_coco_round_trip(capsys, tmp_path):
    code, out, _ = run(
        capsys, "export", COCO_SPEC, "--format", "coco", "--out", str(tmp_path / "e")
    )
    assert code == 0 and "coco:" in out
    src = load_data(COCO_SPEC, progress=False)
    back = coco_to_dataset(
        tmp_path / "e" / "person_keypoints.json", tmp_path / "e" / "images", progress=False
    )
    assert len(back) == len(src)
    for a, b in zip(src, back, strict=True):
        assert np.array_equal(a.image, b.image)
        assert np.array_equal(a.keypoints, b.keypoints)
        assert np.array_equal(a.boxes, b.boxes) and np.array_equal(a.iscrowd, b.iscrowd)


def test_export_faces68_round_trip_keeps_persons(capsys, tmp_path):
    code, _, _ = run(
        capsys,
        "export",
        f"faces68:{SAMPLES}/faces68_layout",
        "--format",
        "faces68",
        "--out",
        str(tmp_path),
    )
    assert code == 0
    src = load_faces68(SAMPLES / "faces68_layout", progress=False)
    back = load_faces68(tmp_path, progress=False)
    assert back.groups == src.groups
    assert np.array_equal(back.keypoints_array(), src.keypoints_array())
    assert np.array_equal(back.images_array(), src.images_array())  # PNG is lossless
    names, _ = read_faces68_csv(tmp_path / "keypoints.csv")
    assert names == [Path(s.name).stem + ".png" for s in src]


def test_export_faces68_refuses_other_layouts(capsys, tmp_path):
    code, _, err = run(capsys, "export", COCO_SPEC, "--format", "faces68", "--out", str(tmp_path))
    assert code == 2
    assert "--format faces68 needs the 68-point layout" in err and "coco17" in err


def test_bad_spec_and_bad_file_exit_cleanly(capsys, tmp_path):
    code, _, err = run(capsys, "stats", "nonsense")
    assert code == 2 and "unknown data spec 'nonsense'" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [], "annotations": [], "categories": 1}')
    code, _, err = run(capsys, "stats", f"coco:{bad}:{tmp_path}")
    assert code == 2 and f"{bad}: top-level field 'categories' must be a list" in err
    code, _, err = run(capsys, "stats", f"faces68:{tmp_path}/none")
    assert code == 2 and "no faces68 folder" in err


def _coco_ap_of_ground_truth(ann_file: Path) -> np.ndarray:
    pycocotools = pytest.importorskip("pycocotools")
    del pycocotools
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(ann_file))
        dets = [
            {
                "image_id": a["image_id"],
                "category_id": a["category_id"],
                "keypoints": a["keypoints"],
                "score": 1.0,
            }
            for a in gt.dataset["annotations"]
            if not a["iscrowd"]
        ]
        dt = gt.loadRes(dets)
        ev = COCOeval(gt, dt, iouType="keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats)


def test_export_sample_coco_gives_ap_one_in_pycocotools(capsys, tmp_path):
    assert run(capsys, "export", COCO_SPEC, "--format", "coco", "--out", str(tmp_path))[0] == 0
    stats = _coco_ap_of_ground_truth(tmp_path / "person_keypoints.json")
    assert stats[0] == 1.0 and stats[5] == 1.0  # AP and AR over OKS 0.50:0.95


@pytest.mark.parametrize("spec", ["synthetic-people", "synthetic-people-scenes"])
def test_export_synthetic_people_gives_ap_one_in_pycocotools(capsys, tmp_path, spec):
    argv = ["export", spec, "--n", "8", "--seed", "3", "--format", "coco", "--out", str(tmp_path)]
    assert run(capsys, *argv, "--no-progress")[0] == 0
    ann = json.loads((tmp_path / "person_keypoints.json").read_text())
    assert len(ann["images"]) == 8 and len(list((tmp_path / "images").glob("*.png"))) == 8
    stats = _coco_ap_of_ground_truth(tmp_path / "person_keypoints.json")
    assert stats[0] == 1.0 and stats[5] == 1.0


def test_entry_point_subprocess():
    exe = shutil.which("kplearn")
    if exe is None:
        pytest.skip("the kplearn entry point is not on PATH (package not installed)")
    res = subprocess.run(
        [exe, "data", "stats", MPII_SPEC, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["instances"] == len(json.loads(MPII_JSON.read_text()))
    res = subprocess.run(
        [exe, "data", "stats", "bogus"], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 2 and "kplearn data: error: unknown data spec" in res.stderr
