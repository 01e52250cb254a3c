"""The conveniences of kplearn.lessons that the lesson cells use: sample files, widget detection."""

from __future__ import annotations

import pytest

from kplearn import lessons


def test_sample_path_finds_the_shipped_samples():
    path = lessons.sample_path("coco", "person_keypoints_tiny.json")
    assert path.is_file() and path.parent.name == "coco"
    assert lessons.sample_path("faces68_layout").is_dir()


def test_sample_path_names_what_it_tried():
    with pytest.raises(FileNotFoundError, match="no_such_file.json"):
        lessons.sample_path("coco", "no_such_file.json")


class _FakeKernel:
    def __init__(self, allow_stdin: bool):
        self._allow_stdin = allow_stdin


class _FakeShell:
    def __init__(self, allow_stdin: bool):
        self.kernel = _FakeKernel(allow_stdin)


def test_interactive_is_false_outside_a_kernel(monkeypatch):
    monkeypatch.delenv(lessons.INTERACTIVE_ENV, raising=False)
    assert lessons.interactive() is False


@pytest.mark.parametrize(("allow_stdin", "env", "expected"), [
    (True, None, True),    # a Jupyter front end
    (False, None, False),  # nbval / nbclient
    (True, "0", False),    # forced off
    (False, "1", True),    # forced on
])  # fmt: skip
def test_interactive_follows_the_front_end(monkeypatch, allow_stdin, env, expected):
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: _FakeShell(allow_stdin))
    if env is None:
        monkeypatch.delenv(lessons.INTERACTIVE_ENV, raising=False)
    else:
        monkeypatch.setenv(lessons.INTERACTIVE_ENV, env)
    assert lessons.interactive() is expected


def test_coco_people_spec_reads_a_folder_and_names_what_is_missing(tmp_path):
    from kplearn.lessons import coco_people_spec

    sample_path = lessons.sample_path
    spec = coco_people_spec(sample_path("coco"))
    assert spec == f"coco:{sample_path('coco', 'person_keypoints_tiny.json')}:{sample_path('coco', 'images')}"
    with pytest.raises(FileNotFoundError, match="no such folder"):
        coco_people_spec(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="no person_keypoints_"):
        coco_people_spec(tmp_path)
    (tmp_path / "person_keypoints_val2017.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no images/"):
        coco_people_spec(tmp_path)
    (tmp_path / "person_keypoints_train2017.json").write_text("{}")
    (tmp_path / "images").mkdir()
    with pytest.raises(ValueError, match="several annotation files"):
        coco_people_spec(tmp_path)


def test_real_people_follows_the_environment(monkeypatch):
    from kplearn.lessons import COCO_ENV, real_people

    monkeypatch.delenv(COCO_ENV, raising=False)
    assert real_people() is None
    monkeypatch.setenv(COCO_ENV, str(lessons.sample_path("coco")))
    people = real_people(n=2, seed=0)
    assert len(people) == 2 and people.skeleton.name == "coco17"


def test_run_lesson_refuses_a_people_folder_that_is_not_one(tmp_path):
    from kplearn.lessons import find_lessons, run_lesson

    lesson = find_lessons()[0]
    with pytest.raises(FileNotFoundError, match="no person_keypoints_"):
        run_lesson(lesson, tmp_path / "out", real_people=tmp_path)
