"""`kplearn lessons run`: progress within a lesson, and no kernel warnings in the output."""

from __future__ import annotations

import nbformat
import pytest

from kplearn.cli import main


def _lesson(folder, name="01_demo.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Demo lesson"),
        nbformat.v4.new_code_cell("QUICK = True\nSEED = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_markdown_cell("## 1. Counting\n\nProse."),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell("## 2. Plotting"),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()"
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / name)


@pytest.fixture
def lesson_dir(tmp_path):
    folder = tmp_path / "lessons"
    folder.mkdir()
    _lesson(folder)
    return folder


def test_lessons_run_logs_cells_and_sections_without_kernel_warnings(lesson_dir, tmp_path,
                                                                     monkeypatch, capfd):  # fmt: skip
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setattr("kplearn.progress.LOG_INTERVAL", 0.0)  # a line per cell, for the test
    assert main(["lessons", "run", "01", "--dir", str(lesson_dir), "--out", str(tmp_path / "out")]) == 0
    out, err = capfd.readouterr()  # file descriptors: the kernel's own stderr is caught too
    assert "without encryption" not in err and "IPKernelApp" not in err, err
    assert "\r" not in err
    lines = [line for line in err.splitlines() if line.startswith("lesson 1/1 01_demo:")]
    assert [line.split(":")[1].split(",")[0].strip() for line in lines][:3] == [
        "1/3 (33%)", "2/3 (67%)", "3/3 (100%)"]  # fmt: skip
    assert lines[0].endswith("Demo lesson") and lines[1].endswith("1. Counting")
    assert lines[2].endswith("2. Plotting")
    assert "01_demo: " in out and " s, 1 figure -> " in out  # singular


def test_lessons_run_quiet_prints_only_the_result(lesson_dir, tmp_path, monkeypatch, capfd):
    monkeypatch.setattr("kplearn.progress.LOG_INTERVAL", 0.0)
    code = main(["lessons", "run", "01", "--dir", str(lesson_dir), "--out", str(tmp_path / "o"),
                 "--quiet"])  # fmt: skip
    assert code == 0
    out, err = capfd.readouterr()
    assert "cells" not in err and "lesson 1/1" not in err
    assert "01_demo: " in out
