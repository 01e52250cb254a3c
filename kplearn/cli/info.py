"""``kplearn info``: what kplearn runs on, and where its data and runs go.

The check that ends the install: versions (kplearn, Python, torch and its build,
OpenCV, numpy), CPU threads, the device kplearn train would use, the data
folder and which downloaded datasets it holds, and where runs and lesson pages
are written. A CUDA build of torch on a machine without a usable GPU is named
in a warning, with the command that replaces it by the CPU build.

examples:
  kplearn info
  kplearn info --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

__all__ = ["register", "collect_info", "format_info", "torch_build", "cpu_torch_command"]

#: The PyTorch index that serves CPU-only wheels (Linux and Windows).
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def register(subparsers) -> None:
    """Add the ``info`` command."""
    p = subparsers.add_parser(
        "info",
        help="versions, torch build, device, threads, where data and runs go",
        description=__doc__.split("\n", 1)[1].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print the same facts as a JSON object")
    p.set_defaults(func=_cmd_info)


def torch_build(torch) -> str:
    """``"CPU"``, ``"CUDA 13.0"``, ``"ROCm 6.1"`` or ``"CPU + MPS"``: what ``torch`` was built for."""
    cuda = getattr(torch.version, "cuda", None)
    hip = getattr(torch.version, "hip", None)
    if cuda:
        return f"CUDA {cuda}"
    if hip:
        return f"ROCm {hip}"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_built():
        return "CPU + MPS"
    return "CPU"


def _local_cpu_wheel() -> str | None:
    """The version of a ``torch-*+cpu`` wheel in pip's ``find-links`` folders, if any."""
    folders = [v for v in os.environ.get("PIP_FIND_LINKS", "").split() if v]
    try:
        listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                                text=True, timeout=30, check=False).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        listed = ""
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        if key.strip().endswith("find-links"):
            folders += value.strip().strip("'\"").split()
    for folder in folders:
        path = Path(folder.removeprefix("file://"))
        if path.is_dir():
            for wheel in sorted(path.glob("torch-*+cpu-*.whl"), reverse=True):
                return wheel.name.split("-")[1]
    return None


def cpu_torch_command(version: str) -> str:
    """The one command that replaces the installed torch by a CPU build.

    A CPU wheel in pip's local ``find-links`` folder (as on the course's
    machines) is installed from there; otherwise the same version comes from
    PyTorch's CPU index.
    """
    local = _local_cpu_wheel()
    if local is not None:
        return f'pip install "torch=={local}"'
    base = version.split("+")[0]
    return f'pip install "torch=={base}+cpu" --index-url {CPU_INDEX}'


def _threads(torch) -> dict:
    return {
        "torch": torch.get_num_threads(),
        "cpu_cores": os.cpu_count(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    }


def collect_info() -> dict:
    """Every fact ``kplearn info`` prints, as a JSON-ready dict."""
    import cv2
    import numpy as np
    import torch

    from kplearn import __version__
    from kplearn.data.fetch import DATA_ENV, data_root, list_datasets
    from kplearn.lessons import default_lesson_dir
    from kplearn.train.fit import resolve_device

    build = torch_build(torch)
    gpu = bool(torch.cuda.is_available())
    info = {
        "kplearn": __version__,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "torch": torch.__version__,
        "torch_build": build,
        "cuda_available": gpu,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "threads": _threads(torch),
        "device": str(resolve_device(None)),
        "data_root": str(data_root()),
        "data_root_from": DATA_ENV if os.environ.get(DATA_ENV) else "pooch.os_cache('kplearn')",
        "datasets": [
            {"name": s.name, "downloaded": s.prepared, "path": str(s.path), "images": s.images,
             "spec": s.spec}  # fmt: skip
            for s in list_datasets()
        ],
        "faces68_env": os.environ.get("KPLEARN_FACES68"),
        "runs": str(Path.cwd()),
        "lessons": str(default_lesson_dir()),
        "warnings": [],
    }
    if build.startswith("CUDA") and not gpu:
        info["warnings"].append(
            f"torch {torch.__version__} is a CUDA build (gigabytes of nvidia-* packages), but this "
            "machine has no usable GPU: training runs on the CPU either way. Replace it with the "
            f"CPU build: {cpu_torch_command(torch.__version__)}"
        )
    return info


def format_info(info: dict) -> str:
    """The text ``kplearn info`` prints for :func:`collect_info`'s dict."""
    t = info["threads"]
    omp = t["OMP_NUM_THREADS"]
    lines = [
        f"kplearn   {info['kplearn']} (Python {info['python']}, {info['platform']})",
        f"torch     {info['torch']}, {info['torch_build']} build"
        + (", GPU available" if info["cuda_available"] else ""),
        f"OpenCV    {info['opencv']}",
        f"numpy     {info['numpy']}",
        f"threads   torch uses {t['torch']} of {t['cpu_cores']} CPU cores"
        + (f" (OMP_NUM_THREADS={omp})" if omp else "")
        + "; change with kplearn train --threads N",
        f"device    {info['device']} (what kplearn train uses; --device to choose)",
        f"data      {info['data_root']} (from {info['data_root_from']}; set KPLEARN_DATA to move it)",
    ]
    for ds in info["datasets"]:
        if ds["downloaded"]:
            count = f"{ds['images']} images, " if ds["images"] is not None else ""
            lines.append(f"  {ds['name']:<22s} downloaded: {count}--data {ds['spec']}")
        else:
            lines.append(f"  {ds['name']:<22s} not downloaded (kplearn data download {ds['name']})")
    if info["faces68_env"]:
        lines.append(f"  KPLEARN_FACES68        {info['faces68_env']}")
    lines += [
        f"runs      where kplearn train --out DIR says (relative to {info['runs']})",
        "lessons   kplearn lessons run writes build/lessons/ (--out DIR to change); "
        f"the notebooks are in {info['lessons']}",
    ]
    lines += [f"warning: {w}" for w in info["warnings"]]
    return "\n".join(lines)


def _cmd_info(args: argparse.Namespace) -> int:
    info = collect_info()
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        print(format_info(info))
    return 0
