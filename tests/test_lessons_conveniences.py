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
