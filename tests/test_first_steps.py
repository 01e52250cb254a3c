"""The README's first steps, run as written (slow: about a minute and a half)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import readme

pytestmark = pytest.mark.slow

BLOCKS = readme.bash_blocks(readme.section("First steps"))


def _shell(command, cwd, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def test_kplearn_lessons_run_01(tmp_path):
    (command,) = BLOCKS[0]
    done = _shell(command, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    page = tmp_path / "build" / "lessons" / "01_keypoints_and_data.html"
    assert page.is_file() and (tmp_path / "build/lessons/01_keypoints_and_data.ipynb").is_file()
    assert "without encryption" not in done.stderr and "\r" not in done.stderr
    assert "01_keypoints_and_data: " in done.stdout and " figures -> " in done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyter_lab_serves_the_notebooks(tmp_path):
    (command,) = BLOCKS[1]
    port = _free_port()
    # As written, plus what a test needs: no browser, a free port, no token, a private runtime
    # dir (and --allow-root where CI runs as root, which Jupyter otherwise refuses).
    args = (f"{command} --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
            "--IdentityProvider.token= --ServerApp.password= --ServerApp.port_retries=0")  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args += " --allow-root"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    server = subprocess.Popen(args, shell=True, cwd=readme.REPO_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)  # fmt: skip
    try:
        names, deadline = None, time.monotonic() + 120
        while names is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5) as r:
                    names = [item["name"] for item in json.load(r)["content"]]
            except OSError:
                time.sleep(1)
        if names is None:
            server.terminate()
            pytest.fail("jupyter lab did not answer within 2 minutes:\n" + server.communicate()[1][-3000:])
        assert "01_keypoints_and_data.ipynb" in names
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)


def test_train_and_evaluate_as_in_the_readme(tmp_path):
    train, evaluate = BLOCKS[3]
    done = _shell(train, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "best_value=" in done.stdout and (tmp_path / "runs" / "hm" / "config.json").is_file()
    again = _shell(train, tmp_path)  # the same command again refuses to replace the run
    assert again.returncode == 2 and "--overwrite" in again.stderr
    scored = _shell(evaluate, tmp_path)
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert scored.stdout.startswith("runs/hm on synthetic-faces: split val ("), scored.stdout
    print(scored.stdout, file=sys.stderr)
