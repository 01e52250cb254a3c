"""Progress: bars on a terminal only, a line now and then in a log, never `\\r` frames."""

from __future__ import annotations

import io
import re

import pytest
import torch

from kplearn.progress import LogProgress, format_seconds, progress_bar, progress_mode
from kplearn.train.progress import TrainingProgress, format_value

torch.set_num_threads(1)


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_mode_follows_the_stream(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert progress_mode(True, _Tty()) == "bar"
    assert progress_mode(True, io.StringIO()) == "log"
    assert progress_mode(False, _Tty()) == "off"
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_mode(True, _Tty()) == "off"


def test_progress_bar_in_a_log_is_a_plain_counter(monkeypatch, capsys):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    bar = progress_bar(range(5), True, desc="cropping")  # capsys: stderr is not a terminal
    assert isinstance(bar, LogProgress)
    assert list(bar) == [0, 1, 2, 3, 4]
    assert capsys.readouterr().err == ""  # quicker than the interval: nothing at all


def test_log_progress_prints_now_and_then_without_carriage_returns():
    log = io.StringIO()
    clock = iter(range(0, 1000, 10))  # each update 10 s after the last
    bar = LogProgress(total=20, desc="cropping", interval=30.0, file=log)
    bar.start = bar._last = 0.0
    import kplearn.progress as progress_module

    real = progress_module.time.perf_counter
    progress_module.time.perf_counter = lambda: float(next(clock))
    try:
        for _ in range(20):
            bar.update(1)
        bar.close()
    finally:
        progress_module.time.perf_counter = real
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    # 20 updates 10 s apart = 200 s: a line every 30 s (6 or 7), one at the end.
    assert 6 <= len(lines) <= 8, lines
    assert lines[-1].startswith("cropping: 20/20 (100%)")


def test_format_seconds_and_value():
    assert format_seconds(0) == "0:00" and format_seconds(119.6) == "2:00"
    assert format_value(0.05535739888594869) == "0.0554"
    assert format_value(None) == "-" and format_value(float("nan")) == "nan"


def test_training_status_shows_loss_validation_and_budget():
    p = TrainingProgress(True, epochs=10, metric="nme", mode="off", start=0.0)
    p.update(0.25, epoch=3, loss=0.123456, now=60.0)
    p.end_epoch(2, val=0.08, now=60.0)
    p.epoch = 3
    assert p.status(now=60.0) == "epoch 3/10, loss 0.1235, val nme 0.0800 (epoch 2), 1:00, about 3:00 left"
    t = TrainingProgress(True, minutes=2, metric="epe", mode="off", start=0.0)
    t.update(0.5, epoch=1, loss=2.5, now=61.0)
    assert t.status(now=61.0) == "epoch 1, loss 2.5000, 1:01 / 2:00"


def test_fit_in_a_log_writes_status_lines_not_bar_frames(monkeypatch, capsys):
    from kplearn.data.synthetic import make_faces
    from kplearn.models import build_model
    from kplearn.train import fit

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    data = make_faces(20, image_size=64, seed=0)
    net = build_model("regression", "faces68", preset="fast")
    monkeypatch.setattr("kplearn.train.progress.LOG_INTERVAL", 0.0)  # every update, for the test
    monkeypatch.setattr("kplearn.progress.LOG_INTERVAL", 1e9)  # cropping: never
    fit(net, data[:16], data[16:], epochs=2, batch_size=8, progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = [line for line in err.splitlines() if line.startswith("training:")]
    assert lines, err
    pattern = r"training: epoch [12]/2, loss \d+\.\d{4}(, val nme \d\.\d{4} \(epoch [12]\))?, \d+:\d\d.*"
    for line in lines:
        assert re.fullmatch(pattern, line), line
    assert "val nme" in lines[-1] and "epoch 2/2" in lines[-1]


def test_fit_with_the_default_interval_is_silent_in_a_short_log(monkeypatch, capsys):
    from kplearn.data.synthetic import make_faces
    from kplearn.models import build_model
    from kplearn.train import fit

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    data = make_faces(12, image_size=64, seed=0)
    net = build_model("regression", "faces68", preset="fast")
    fit(net, data[:8], data[8:], epochs=1, batch_size=4, progress=True)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("mode", ["bar"])
def test_training_progress_bar_closes(mode):
    p = TrainingProgress(True, epochs=1, metric="nme", mode=mode)
    p.update(1.0, epoch=1, loss=0.5)
    p.close()
    assert p._bar is None
