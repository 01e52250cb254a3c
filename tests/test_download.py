"""`kplearn data download`: fetching with hash checks, resuming, failing cleanly, preparing.

Every download here goes to an http.server on 127.0.0.1 that the test starts on a
free port and stops; nothing reaches the internet.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import socket
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kplearn.cli import main
from kplearn.data import load_data, load_faces68
from kplearn.data.fetch import (
    DATASETS,
    DownloadError,
    HashMismatchError,
    download,
    list_datasets,
    prepare_faces68,
    read_manifest,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLE = SHARED / "faces68-source" / "sample"


# --- a local upstream -------------------------------------------------------------
class Server:
    """A threaded http.server over ``folder`` on 127.0.0.1; records each GET path.

    ``break_after=k``: the (k+1)-th GET gets half of its body, then the server
    stops and closes its socket (later connections are refused).
    """

    def __init__(self, folder: Path, break_after: int | None = None, port: int = 0):
        self.requests: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def do_GET(self):
                with outer.lock:
                    outer.requests.append(self.path)
                    k = len(outer.requests)
                if break_after is not None and k > break_after:
                    if k == break_after + 1:
                        local = folder / self.path.lstrip("/")
                        body = local.read_bytes()
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        threading.Thread(target=outer.stop, daemon=True).start()
                    return  # the connection drops
                super().do_GET()

        self.httpd = ThreadingHTTPServer(
            ("127.0.0.1", port), functools.partial(Handler, directory=str(folder))
        )
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self._stopped = False

    def stop(self):
        if not self._stopped:
            self._stopped = True
            self.httpd.shutdown()
            self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(tree: Path, out: Path, paths=None) -> Path:
    paths = paths or sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "bytes", "sha256"])
        for p in paths:
            w.writerow([p, (tree / p).stat().st_size, sha256(tree / p)])
    return out


# Landmarks of a made-up face: a 68-point ring (jaw-like) around a centre.
def face_points(cx: float, cy: float, r: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    return np.stack([cx + r * np.cos(t), cy + 0.8 * r * np.sin(t)], axis=1).round(1)


DOTS = (0, 17, 34, 51)  # landmarks drawn as white dots on the upstream image


def make_upstream(folder: Path, n_train: int = 5, n_test: int = 3) -> dict[str, np.ndarray]:
    """An upstream-layout tree (PNG data under .jpg names, as upstream); returns name → points."""
    rng = np.random.default_rng(0)
    truth = {}
    for split, n in (("training", n_train), ("test", n_test)):
        (folder / "data" / split).mkdir(parents=True)
        rows = [[""] + [str(i) for i in range(136)]]
        for i in range(n):
            name = f"Person_{split}_{i}_0{i}.jpg"
            w, h = int(rng.integers(120, 200)), int(rng.integers(120, 200))
            xy = face_points(w / 2 + rng.uniform(-10, 10), h / 2 + rng.uniform(-10, 10), 35)
            img = np.zeros((h, w, 4), np.uint8)
            img[..., 3] = 255
            img[..., :3] = rng.integers(0, 40, (h, w, 3))
            for j in DOTS:
                x, y = np.round(xy[j]).astype(int)
                img[y - 1 : y + 2, x - 1 : x + 2, :3] = 255
            Image.fromarray(img, "RGBA").save(folder / "data" / split / name, format="PNG")
            rows.append([name] + [f"{v:.1f}" for v in xy.ravel()])
            truth[name] = xy
        with open(folder / "data" / f"{split}_frames_keypoints.csv", "w", newline="") as f:
            csv.writer(f).writerows(rows)
    return truth


@pytest.fixture
def upstream(tmp_path):
    tree = tmp_path / "upstream"
    truth = make_upstream(tree)
    manifest = write_manifest(tree, tmp_path / "manifest.csv")
    return tree, manifest, truth


def fetch(root, server, manifest, **kw):
    return download(
        "faces68", root, base_url=server.url, manifest=manifest, progress=False, timeout=10, **kw
    )


def assert_no_prepared(root: Path, name: str = "faces68"):
    assert not (root / name).exists()
    assert not (root / f".{name}.partial").exists()


def raw_files_all_right(root: Path, manifest: Path) -> list[str]:
    """Every raw file present has its manifest hash; returns the missing ones."""
    missing = []
    for p, (_, h) in read_manifest(manifest).items():
        f = root / "downloads" / "faces68" / p
        if f.is_file():
            assert h == f"sha256:{sha256(f)}", f"{f} is present with a wrong hash"
        else:
            missing.append(p)
    # no temporary leftovers beside the files
    leftovers = [
        q
        for q in (root / "downloads").rglob("*")
        if q.is_file()
        and q.relative_to(root / "downloads" / "faces68").as_posix() not in read_manifest(manifest)
    ]
    assert leftovers == []
    return missing


# --- download + prepare ----------------------------------------------------------
def test_download_prepares_the_folder(tmp_path, upstream):
    tree, manifest, truth = upstream
    root = tmp_path / "root"
    with Server(tree) as server:
        out = fetch(root, server, manifest)
    assert out == root / "faces68"
    assert len(server.requests) == 2 + len(truth)
    for p in read_manifest(manifest):  # raw files in ROOT/downloads/NAME/PATH, unchanged
        assert (root / "downloads" / "faces68" / p).read_bytes() == (tree / p).read_bytes()
    names = [r[0] for r in csv.reader(open(out / "keypoints.csv"))][1:]
    # training rows, then test rows with a "b" before .jpg, in upstream order
    assert names == [f"Person_training_{i}_0{i}.jpg" for i in range(5)] + [
        f"Person_test_{i}_0{i}b.jpg" for i in range(3)
    ]
    ds = load_faces68(out, progress=False)
    assert len(ds) == 8
    for s in ds:
        assert s.image.shape == (160, 160, 3)
        xy = s.keypoints[0, :, :2]
        # a square of 1.5 x the landmarks' box, +-10 %: the box spans 160 / 1.5 px +-10 %
        span = (xy.max(0) - xy.min(0)).max()
        assert 160 / 1.5 / 1.1 - 0.1 <= span <= 160 / 1.5 / 0.9 + 0.1
        # the drawn dots are where the written landmarks say (image and points agree)
        grey = s.image.mean(axis=2)
        for j in DOTS:
            x, y = np.round(xy[j]).astype(int)
            assert grey[y, x] > 150, (s.name, j, grey[y, x])
        # and a point away from every dot is dark
        assert grey[int(round(xy[8, 1])), int(round(xy[8, 0]))] < 100
    card = (out / "README.md").read_text()
    assert "YouTube Faces" in card and "research" in card and "P1_Facial_Keypoints" in card
    assert not (root / ".faces68.partial").exists()
    (status,) = [s for s in list_datasets(root) if s.name == "faces68"]
    assert status.prepared and status.images == 8 and status.path == out
    assert load_data(status.spec, progress=False).name == "faces68"


def test_second_run_downloads_nothing(tmp_path, upstream):
    tree, manifest, truth = upstream
    root = tmp_path / "root"
    with Server(tree) as server:
        fetch(root, server, manifest)
        first = len(server.requests)
        fetch(root, server, manifest)  # already prepared
        fetch(root, server, manifest, force=True)  # prepared again from the raw files
        assert len(server.requests) == first
    # with the prepared folder gone and the server gone: prepared again, offline
    before = (root / "faces68" / "keypoints.csv").read_bytes()
    import shutil

    shutil.rmtree(root / "faces68")
    out = download(
        "faces68", root, base_url="http://127.0.0.1:9/", manifest=manifest, progress=False
    )
    assert (out / "keypoints.csv").read_bytes() == before


def test_kplearn_data_env_is_the_default_root(tmp_path, upstream, monkeypatch):
    tree, manifest, _ = upstream
    monkeypatch.setenv("KPLEARN_DATA", str(tmp_path / "env-root"))
    with Server(tree) as server:
        out = download("faces68", base_url=server.url, manifest=manifest, progress=False)
    assert out == tmp_path / "env-root" / "faces68" and (out / "keypoints.csv").is_file()


# --- failures ----------------------------------------------------------------------
def test_corrupted_file_is_deleted_and_named(tmp_path, upstream):
    tree, manifest, truth = upstream
    bad = "data/training/Person_training_2_02.jpg"
    expected = sha256(tree / bad)
    (tree / bad).write_bytes((tree / bad).read_bytes()[:-10] + b"corrupted!")
    actual = sha256(tree / bad)
    root = tmp_path / "root"
    with Server(tree) as server, pytest.raises(HashMismatchError) as info:
        fetch(root, server, manifest)
    msg = str(info.value)
    assert bad in msg and expected in msg and actual in msg and "deleted" in msg
    assert not (root / "downloads" / "faces68" / bad).exists()
    assert raw_files_all_right(root, manifest)
    assert_no_prepared(root)


def test_wrong_local_file_is_fetched_again(tmp_path, upstream):
    tree, manifest, _ = upstream
    root = tmp_path / "root"
    placed = root / "downloads" / "faces68" / "data" / "test" / "Person_test_0_00.jpg"
    placed.parent.mkdir(parents=True)
    placed.write_bytes(b"not the image")
    with Server(tree) as server:
        fetch(root, server, manifest)
    assert "/data/test/Person_test_0_00.jpg" in server.requests
    assert placed.read_bytes() == (tree / "data/test/Person_test_0_00.jpg").read_bytes()


def test_404_names_the_url(tmp_path, upstream):
    tree, manifest, _ = upstream
    gone = "data/test/Person_test_1_01.jpg"
    (tree / gone).unlink()
    root = tmp_path / "root"
    with Server(tree) as server, pytest.raises(DownloadError) as info:
        fetch(root, server, manifest)
    msg = str(info.value)
    assert f"{server.url}{gone}" in msg and "404" in msg
    assert "place each at" in msg and str(manifest) in msg
    assert raw_files_all_right(root, manifest)
    assert_no_prepared(root)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_says_how_to_place_files(tmp_path, upstream):
    _, manifest, _ = upstream
    root = tmp_path / "root"
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(DownloadError) as info:
        download("faces68", root, base_url=url, manifest=manifest, progress=False, timeout=5)
    msg = str(info.value)
    assert url in msg and "refused" in msg.lower()
    assert str(root / "downloads" / "faces68") in msg and "--base-url" in msg
    assert_no_prepared(root)


def test_interrupted_run_resumes(tmp_path, upstream):
    tree, manifest, truth = upstream
    root = tmp_path / "root"
    total = 2 + len(truth)
    with Server(tree, break_after=4) as server, pytest.raises(DownloadError):
        fetch(root, server, manifest, workers=2)
    assert_no_prepared(root)
    missing = raw_files_all_right(root, manifest)
    assert 1 <= len(missing) < total
    with Server(tree) as again:  # the server is back
        out = fetch(root, again, manifest, workers=2)
    assert sorted(p.lstrip("/") for p in again.requests) == sorted(missing)
    assert len(load_faces68(out, progress=False)) == len(truth)
    assert raw_files_all_right(root, manifest) == []


def test_prepare_failure_leaves_no_folder(tmp_path, upstream):
    tree, manifest, _ = upstream
    # the CSV names an image that the manifest (and the server) do not have
    with open(tree / "data" / "test_frames_keypoints.csv", "a") as f:
        f.write("Nobody_01.jpg," + ",".join(["50.0"] * 136) + "\n")
    manifest = write_manifest(tree, tmp_path / "manifest2.csv")
    root = tmp_path / "root"
    with Server(tree) as server, pytest.raises(DownloadError) as info:
        fetch(root, server, manifest)
    assert "Nobody_01.jpg" in str(info.value) and "test_frames_keypoints.csv" in str(info.value)
    assert_no_prepared(root)


def test_unknown_dataset_and_bad_manifest(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'faces70'"):
        download("faces70", tmp_path)
    bad = tmp_path / "m.csv"
    for text, needle in (
        ("name,size,sha256\n", "header"),
        ("path,bytes,crc32\n", "unknown hash algorithm"),
        ("path,bytes,sha256\na.jpg,1,xyz\n", "line 2"),
        ("path,bytes,sha256\n../a.jpg,1," + "0" * 64 + "\n", "relative path"),
        ("path,bytes,sha256\na.jpg,1," + "0" * 64 + "\na.jpg,1," + "0" * 64 + "\n", "line 3"),
        ("path,bytes,sha256\na.jpg,ten," + "0" * 64 + "\n", "whole number"),
    ):
        bad.write_text(text)
        with pytest.raises(ValueError, match=needle):
            read_manifest(bad)


# --- COCO val2017 people -------------------------------------------------------------
def make_coco_zips(folder: Path) -> dict[str, str]:
    """Tiny annotations_trainval2017.zip and val2017.zip; returns path → sha1."""
    cat = {
        "id": 1,
        "name": "person",
        "keypoints": [f"k{i}" for i in range(17)],
        "skeleton": [[1, 2]],
    }
    images, anns = [], []
    jpgs = {}
    for i in (1, 2, 3):
        name = f"{i:012d}.jpg"
        images.append({"id": i, "file_name": name, "width": 40, "height": 30})
        buf = io.BytesIO()
        Image.fromarray(np.full((30, 40, 3), 60 * i, np.uint8)).save(buf, format="JPEG")
        jpgs[name] = buf.getvalue()

    def person(aid, image_id, n_kp, crowd=0):
        kp = [0.0] * 51
        for j in range(n_kp):
            kp[3 * j : 3 * j + 3] = [5.0 + j, 6.0 + j, 2]
        return {
            "id": aid,
            "image_id": image_id,
            "category_id": 1,
            "keypoints": kp,
            "num_keypoints": n_kp,
            "bbox": [1.0, 1.0, 30.0, 25.0],
            "area": 750.0,
            "iscrowd": crowd,
            "segmentation": [[1, 1, 31, 1, 31, 26]]
            if not crowd
            else {"counts": [0, 1200], "size": [30, 40]},
        }

    anns = [
        person(10, 1, 5),
        person(11, 1, 0, crowd=1),  # a crowd region in a kept image: kept
        person(12, 2, 0),  # image 2 has nobody with keypoints: dropped
        person(13, 3, 17),
        person(14, 3, 0),  # a person without keypoints in a kept image: kept
    ]
    coco = {
        "info": {"description": "tiny"},
        "licenses": [],
        "images": images,
        "annotations": anns,
        "categories": [cat],
    }
    (folder / "annotations").mkdir(parents=True)
    (folder / "zips").mkdir()
    with zipfile.ZipFile(folder / "annotations" / "annotations_trainval2017.zip", "w") as zf:
        zf.writestr("annotations/person_keypoints_val2017.json", json.dumps(coco))
        zf.writestr("annotations/instances_val2017.json", "{}")
    with zipfile.ZipFile(folder / "zips" / "val2017.zip", "w") as zf:
        for name, data in jpgs.items():
            zf.writestr(f"val2017/{name}", data)
    return {
        p: "sha1:" + hashlib.sha1((folder / p).read_bytes()).hexdigest()
        for p in ("annotations/annotations_trainval2017.zip", "zips/val2017.zip")
    }


def test_coco_val2017_person(tmp_path):
    tree = tmp_path / "coco-site"
    hashes = make_coco_zips(tree)
    root = tmp_path / "root"
    with Server(tree) as server:
        out = download(
            "coco-val2017-person", root, base_url=server.url, manifest=hashes, progress=False
        )
    assert sorted(server.requests) == [
        "/annotations/annotations_trainval2017.zip",
        "/zips/val2017.zip",
    ]
    assert out == root / "coco-val2017-person"
    coco = json.loads((out / "person_keypoints_val2017.json").read_text())
    assert [im["id"] for im in coco["images"]] == [1, 3]
    assert [a["id"] for a in coco["annotations"]] == [10, 11, 13, 14]
    assert sorted(p.name for p in (out / "images").iterdir()) == [
        "000000000001.jpg",
        "000000000003.jpg",
    ]
    with zipfile.ZipFile(tree / "zips" / "val2017.zip") as zf:
        assert (out / "images" / "000000000003.jpg").read_bytes() == zf.read(
            "val2017/000000000003.jpg"
        )
    ds = load_data(
        f"coco:{root}/coco-val2017-person/person_keypoints_val2017.json:{root}/coco-val2017-person/images",
        progress=False,
    )
    assert len(ds) == 2
    (status,) = [s for s in list_datasets(root) if s.name == "coco-val2017-person"]
    assert status.prepared and status.images == 2
    assert "CC BY 4.0" in (out / "README.md").read_text()


def test_coco_registry_is_the_published_archives():
    files = read_manifest(DATASETS["coco-val2017-person"].manifest)
    assert files == {
        "annotations/annotations_trainval2017.zip": (
            252907541,
            "sha1:8551ee4bb5860311e79dace7e79cb91e432e78b3",
        ),
        "zips/val2017.zip": (815585330, "sha1:4950dc9d00dbe1c933ee0170f5797584351d2a41"),
    }
    assert DATASETS["coco-val2017-person"].base_url == "http://images.cocodataset.org/"


# --- the command line --------------------------------------------------------------
def test_cli_download_and_list(tmp_path, upstream, capsys):
    tree, manifest, truth = upstream
    root = tmp_path / "root"
    with Server(tree) as server:
        code = main(
            [
                "data",
                "download",
                "faces68",
                "--root",
                str(root),
                "--base-url",
                server.url,
                "--manifest",
                str(manifest),
                "--no-progress",
            ]
        )
    assert code == 0
    capsys.readouterr()
    assert main(["data", "list", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    line = next(
        ln for ln in out.splitlines() if ln.strip().startswith("faces68 ") and "downloaded" in ln
    )
    assert "downloaded" in line and str(root / "faces68") in line and f"{len(truth)} images" in line
    assert "coco-val2017-person  not downloaded" in out
    assert "1 flip pairs" not in out and "1 flip pair," in out


def test_cli_download_error_is_one_message(tmp_path, upstream, capsys):
    _, manifest, _ = upstream
    url = f"http://127.0.0.1:{free_port()}/"
    code = main(
        [
            "data",
            "download",
            "faces68",
            "--root",
            str(tmp_path),
            "--base-url",
            url,
            "--manifest",
            str(manifest),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("kplearn data download: error: could not download " + url)
    assert "Traceback" not in err


# --- the real recipe on the real sample -------------------------------------------------
def test_packaged_manifest_equals_the_shared_one():
    shared = SHARED / "faces68-source" / "manifest.csv"
    if not shared.is_file():
        pytest.skip(f"{shared} not available")
    assert DATASETS["faces68"].manifest.read_bytes() == shared.read_bytes()


def test_packaged_faces68_manifest_lists_4232_images():
    files = read_manifest(DATASETS["faces68"].manifest)
    images = [p for p in files if p.endswith(".jpg")]
    assert len(images) == 4232 and len(files) == 4234
    assert {p.split("/")[1] for p in images} == {"training", "test"}
    assert (
        "data/training_frames_keypoints.csv" in files and "data/test_frames_keypoints.csv" in files
    )


@pytest.mark.realdata
def test_recipe_reproduces_the_shared_faces(tmp_path):
    ref_root = SHARED / "faces68"
    if not (SAMPLE / "data").is_dir() or not (ref_root / "keypoints.csv").is_file():
        pytest.skip(f"needs {SAMPLE} and {ref_root}")
    summary = prepare_faces68(SAMPLE, tmp_path / "out", progress=False)
    assert summary["images"] == 20
    ref = {}
    with open(ref_root / "keypoints.csv") as f:
        for row in list(csv.reader(f))[1:]:
            ref[row[0]] = np.array(row[1:], float).reshape(68, 2)
    with open(tmp_path / "out" / "keypoints.csv") as f:
        rows = list(csv.reader(f))[1:]
    assert len(rows) == 20
    for row in rows:
        name = row[0]
        assert name in ref, f"{name} is not a face of {ref_root}"
        xy = np.array(row[1:], float).reshape(68, 2)
        assert np.abs(xy - ref[name]).max() <= 0.05, name
        mine = np.asarray(Image.open(tmp_path / "out" / "images" / name).convert("L"), float)
        theirs = np.asarray(Image.open(ref_root / "images" / name).convert("L"), float)
        assert mine.shape == theirs.shape == (160, 160)
        assert np.abs(mine - theirs).mean() <= 1.0, name
    assert sum(r[0].endswith("b.jpg") for r in rows) == 4  # the 4 upstream test files


def test_progress_in_a_log_is_plain_lines(tmp_path, upstream, capsys):
    tree, manifest, truth = upstream
    with Server(tree) as server:
        download("faces68", tmp_path, base_url=server.url, manifest=manifest, progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err  # stderr is not a terminal here: no bar frames
    assert f"faces68: fetching {2 + len(truth)} of {2 + len(truth)} files" in err
    assert f"prepared {len(truth)} images in {tmp_path / 'faces68'}" in err


def test_readme_real_data_section_matches_the_registry():
    import readme

    body = readme.section("Real data")
    (commands,) = readme.bash_blocks(body)[:1]
    from kplearn.cli import build_parser

    for line in commands:
        argv = line.split()
        assert argv[0] == "kplearn"
        build_parser().parse_args(argv[1:])  # every command parses
    assert {ln.split()[3] for ln in commands if " download " in ln} == set(DATASETS)
    mb = sum(size for size, _ in read_manifest(DATASETS["faces68"].manifest).values()) / 2**20
    assert f"kplearn data download faces68               # 4,234 files, {mb:.0f} MB" in body
    coco = [s / 2**20 for s, _ in read_manifest(DATASETS["coco-val2017-person"].manifest).values()]
    assert f"coco-val2017-person   # {coco[0]:.0f} MB + {coco[1]:.0f} MB" in body
