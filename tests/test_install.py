"""The README's install command, run as written in a fresh virtual environment (slow: ~2 min).

What a newcomer does: make a venv, activate it, paste the Install section's
command in the repository root. It must succeed within 5 minutes here (of CPU
time, and of wall time when other jobs do not load the machine), give a CPU
build of torch and no ``nvidia-*`` package, and ``kplearn info`` must run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import venv

import pytest
import readme

pytestmark = pytest.mark.slow

LIMIT_SECONDS = 300


def _children_cpu() -> float:
    """CPU seconds used by finished child processes (user + system)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _activated(env_dir):
    """Environment variables of a shell with the venv activated (as `source bin/activate` does)."""
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(VIRTUAL_ENV=str(env_dir), PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return env, bin_dir


def test_readme_install_in_a_fresh_venv(tmp_path):
    command = readme.install_command()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    env, bin_dir = _activated(env_dir)
    start, cpu_start = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, shell=True, cwd=readme.REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=3 * LIMIT_SECONDS)  # fmt: skip
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu_start
    load = os.getloadavg()[0] / (os.cpu_count() or 1) if hasattr(os, "getloadavg") else 0.0
    print(f"\nREADME install command: {command}\n{seconds:.0f} s in a fresh venv "
          f"({cpu:.0f} s of CPU; load {load:.1f} per core)", file=sys.stderr)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Retrying" not in done.stderr, "pip retried an unreachable index"

    python = bin_dir / "python"
    probe = subprocess.run(
        [python, "-c", "import json, torch; print(json.dumps([torch.__version__, torch.version.cuda]))"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    version, cuda = json.loads(probe.stdout)
    assert cuda is None and version.endswith("+cpu"), f"torch {version} (CUDA {cuda})"

    listed = subprocess.run([python, "-m", "pip", "list", "--format=json"], capture_output=True,
                            text=True, env=env, check=True)  # fmt: skip
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert not {n for n in names if n.startswith("nvidia-")}, sorted(names)
    assert {"kplearn", "pooch", "onnx", "onnxruntime", "onnxscript", "nbgrader", "selenium"} <= names

    info = subprocess.run([bin_dir / "kplearn", "info"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)  # fmt: skip
    assert info.returncode == 0, info.stderr
    assert f"torch     {version}, CPU build" in info.stdout and "warning" not in info.stdout
    assert cpu <= LIMIT_SECONDS, f"the install used {cpu:.0f} s of CPU (goal: {LIMIT_SECONDS} s)"
    if load < 1.5:  # on a machine shared by many jobs, wall time measures the others
        assert seconds <= LIMIT_SECONDS, f"the install took {seconds:.0f} s (goal: {LIMIT_SECONDS} s)"
