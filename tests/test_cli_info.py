"""`kplearn info`: versions, torch build, device, data folder, and the CUDA-on-CPU warning."""

from __future__ import annotations

import json

import cv2
import numpy as np
import torch

from kplearn.cli import info as info_cli
from kplearn.cli import main


def test_info_prints_versions_device_and_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KPLEARN_DATA", str(tmp_path / "data"))
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith(" ")}
    assert torch.__version__ in lines["torch"]
    assert f"{info_cli.torch_build(torch)} build" in lines["torch"]
    assert cv2.__version__ in lines["OpenCV"] and np.__version__ in lines["numpy"]
    assert f"torch uses {torch.get_num_threads()} of" in lines["threads"]
    from kplearn.train.fit import resolve_device

    assert lines["device"].split()[1] == str(resolve_device(None))
    assert str(tmp_path / "data") in lines["data"] and "KPLEARN_DATA" in lines["data"]
    assert "faces68" in out and "kplearn data download faces68" in out  # nothing downloaded
    assert "runs" in lines and "lessons" in lines


def test_info_json_names_the_same_facts(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KPLEARN_DATA", str(tmp_path))
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["torch"] == torch.__version__ and info["data_root"] == str(tmp_path)
    assert info["data_root_from"] == "KPLEARN_DATA"
    assert {d["name"] for d in info["datasets"]} >= {"faces68"}
    assert all(d["downloaded"] is False for d in info["datasets"])


def test_info_lists_a_downloaded_dataset(tmp_path, monkeypatch, capsys):
    from kplearn.data import fetch

    status = fetch.DatasetStatus(name="faces68", description="faces", path=tmp_path / "faces68",
                                    prepared=True, images=4232, spec=f"faces68:{tmp_path / 'faces68'}",
                                    raw_present=0, raw_total=0)  # fmt: skip
    monkeypatch.setattr(fetch, "list_datasets", lambda root=None: [status])
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"faces68                downloaded: 4232 images, --data faces68:{tmp_path / 'faces68'}" in out


def test_info_warns_about_a_cuda_build_without_a_gpu(monkeypatch, capsys):
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(info_cli, "_local_cpu_wheel", lambda: "2.13.0+cpu")
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "CUDA 13.0 build" in out
    warning = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "no usable GPU" in warning[0]
    assert warning[0].endswith('pip install "torch==2.13.0+cpu"')
    # Without a local CPU wheel: the same version from PyTorch's CPU index.
    monkeypatch.setattr(info_cli, "_local_cpu_wheel", lambda: None)
    assert info_cli.cpu_torch_command("2.14.1") == (
        'pip install "torch==2.14.1+cpu" --index-url https://download.pytorch.org/whl/cpu'
    )


def test_no_warning_for_a_cpu_build(monkeypatch, capsys):
    monkeypatch.setattr(torch.version, "cuda", None)
    assert main(["info"]) == 0
    assert "warning" not in capsys.readouterr().out


def test_local_cpu_wheel_is_found_in_find_links(tmp_path, monkeypatch):
    (tmp_path / "torch-9.9.9+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"")
    (tmp_path / "torch-9.9.9-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"")  # CUDA
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    assert info_cli._local_cpu_wheel() == "9.9.9+cpu"
    assert info_cli.cpu_torch_command("9.9.9") == 'pip install "torch==9.9.9+cpu"'
