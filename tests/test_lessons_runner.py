import json

import nbformat
import pytest

from kplearn.lessons import find_lessons, run_lesson, select_lessons


def _write_lesson(folder, name="01_demo.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Demo lesson\n\nProse first."),
        nbformat.v4.new_code_cell("QUICK = True\nSEED = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import os, json\n"
            "import matplotlib.pyplot as plt\n"
            "print(json.dumps({'quick': QUICK, 'seed': SEED, 'real': os.environ.get('KPLEARN_FACES68')}))\n"
            "fig, ax = plt.subplots()\nax.plot([0, 1])\nax.set_title('t')\nplt.show()"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_find_and_select_lessons(tmp_path):
    _write_lesson(tmp_path, "01_demo.ipynb")
    _write_lesson(tmp_path, "02_other.ipynb")
    (tmp_path / "scratch.ipynb").write_text((tmp_path / "01_demo.ipynb").read_text())
    lessons = find_lessons(tmp_path)
    assert [(lesson.number, lesson.name, lesson.title) for lesson in lessons] == [
        (1, "demo", "Demo lesson"),
        (2, "other", "Demo lesson"),
    ]
    assert [lesson.number for lesson in select_lessons(lessons, ["2"])] == [2]
    assert [lesson.number for lesson in select_lessons(lessons, ["demo"])] == [1]
    with pytest.raises(ValueError, match="no lesson matches 'zzz'"):
        select_lessons(lessons, ["zzz"])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_lessons(tmp_path / "missing")


def test_run_lesson_injects_parameters_and_writes_html(tmp_path):
    _write_lesson(tmp_path)
    faces = tmp_path / "faces"
    faces.mkdir()
    (faces / "keypoints.csv").write_text("")
    (lesson,) = find_lessons(tmp_path)
    result = run_lesson(
        lesson, tmp_path / "out", parameters={"QUICK": False, "SEED": 7}, real_data=faces
    )
    assert result.figures == 1
    assert result.html.read_text().lower().startswith("<!doctype html>")
    executed = nbformat.read(result.notebook, as_version=4)
    printed = json.loads(executed.cells[-1].outputs[0]["text"])
    assert printed == {"quick": False, "seed": 7, "real": str(faces.resolve())}
    with pytest.raises(FileNotFoundError, match="not a faces68 folder"):
        run_lesson(lesson, tmp_path / "out", real_data=tmp_path)


def test_strip_outputs_keeps_only_checked_cells():
    from kplearn.lessons import is_checked_cell, strip_outputs

    nb = nbformat.v4.new_notebook()
    checked = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)", execution_count=3)
    checked.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    plain = nbformat.v4.new_code_cell("print(2)", execution_count=4)
    plain.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    injected = nbformat.v4.new_code_cell("QUICK = False", metadata={"tags": ["injected-parameters"]})
    tagged = nbformat.v4.new_code_cell(
        "x", execution_count=5, metadata={"tags": ["nbval-check-output"]}
    )
    nb.cells = [checked, plain, injected, tagged]
    assert [is_checked_cell(c) for c in nb.cells] == [True, False, False, True]
    out = strip_outputs(nb)
    assert len(out.cells) == 3
    assert out.cells[0].outputs[0]["text"] == "1\n" and out.cells[0].execution_count == 3
    assert out.cells[1].outputs == [] and out.cells[1].execution_count is None
    assert out.cells[2].execution_count == 5
