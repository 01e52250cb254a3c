"""The README's "Data" and "Coursework" commands, run as written (slow: about half a minute).

The one placeholder, ``/path/to/faces68``, is replaced by the package's 4-face sample in the
faces68 layout; everything else runs literally, in an empty folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import readme

from kplearn.lessons import sample_path

pytestmark = pytest.mark.slow


def _shell(command: str, cwd, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, TQDM_DISABLE="1", MPLBACKEND="Agg")
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def test_the_data_commands(tmp_path):
    (stats, show) = readme.bash_blocks(readme.section("Data"))[0]
    done = _shell(stats, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["dataset"] == "synthetic-faces" and report["labelled_keypoints"] == 68 * report["instances"]

    assert "/path/to/faces68" in show
    done = _shell(show.replace("/path/to/faces68", str(sample_path("faces68_layout"))), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "grid.png").stat().st_size > 1000


def test_the_coursework_commands(tmp_path):
    release, grade = readme.bash_blocks(readme.section("Coursework"))[0]
    done = _shell(release, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    student = tmp_path / "build" / "student"
    assert len(list(student.glob("0[1-8]_*.ipynb"))) == 8

    # The class hands in: one untouched student copy of lesson 1.
    (tmp_path / "submissions").mkdir()
    shutil.copy(student / "01_keypoints_and_data.ipynb", tmp_path / "submissions")
    done = _shell(grade, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (report,) = json.loads(done.stdout)
    assert report["lesson"] == "01_keypoints_and_data"
    assert report["total"] == 0 and report["max_total"] > 0
    assert all(e["points"] == 0 for e in report["exercises"].values())
