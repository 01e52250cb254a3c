"""Wall-clock timing helpers (kplearn.timing)."""

import pytest

from kplearn.timing import interleaved_stats, median_ms, time_per_image, timing_stats, told_apart


def test_time_per_image_divides_by_the_number_of_images():
    calls = []

    def slow(images):
        calls.append(len(images))
        import time

        time.sleep(0.002 * len(images))

    ms = time_per_image(slow, [0] * 5, repeats=2, warmup=1)
    assert calls == [1, 5, 5]
    assert 1.5 < ms < 20
    with pytest.raises(ValueError):
        time_per_image(slow, [])


def test_median_ms_takes_the_middle_call():
    import time

    delays = iter([0.0, 0.25, 0.001, 0.06])  # one warm-up call, then three timed ones

    def call():
        time.sleep(next(delays))

    ms = median_ms(call, repeats=3, warmup=1)
    assert 55 < ms < 240  # the 60 ms call: not the 250 ms one, nor the 1 ms one
    with pytest.raises(ValueError, match="repeats"):
        median_ms(call, repeats=0)


def test_timing_stats_reports_the_median_and_the_spread(monkeypatch):
    import time

    import numpy as np

    # A fake clock read twice per timed call: calls of 3, 1, 10 and 2 ms.
    durations = [3.0, 1.0, 10.0, 2.0]
    ticks = iter(np.cumsum([0.0] + [x for d in durations for x in (d / 1000, 0.0)]))
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(ticks)))
    calls = []
    s = timing_stats(lambda: calls.append(1), repeats=4, warmup=2)
    assert len(calls) == 6 and s["repeats"] == 4  # the warm-up calls are made but not timed
    # the upper middle call for an even number of repeats, as median_ms
    np.testing.assert_allclose([s["min"], s["median"], s["max"]], [1.0, 3.0, 10.0])
    np.testing.assert_allclose([s["q1"], s["q3"]], np.percentile(durations, [25, 75]))
    with pytest.raises(ValueError, match="repeats"):
        timing_stats(lambda: None, repeats=0)


def test_interleaved_stats_times_the_calls_in_rounds(monkeypatch):
    import time

    import numpy as np

    order = []
    # A fake clock read twice per timed call; the calls of round r take a (r + 1) and b 10 (r + 1) ms.
    durations = [d for r in range(4) for d in (r + 1.0, 10.0 * (r + 1))]
    ticks = iter(np.cumsum([0.0] + [x for d in durations for x in (d / 1000, 0.0)]))
    calls = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(ticks)))
    stats = interleaved_stats(calls, repeats=4, warmup=1)
    assert order == ["a", "b"] * 5  # one untimed round, then four timed rounds, each call in turn
    np.testing.assert_allclose(
        [stats["a"]["min"], stats["a"]["median"], stats["a"]["max"]], [1.0, 3.0, 4.0]
    )
    np.testing.assert_allclose(
        [stats["b"]["q1"], stats["b"]["q3"]], np.percentile([10, 20, 30, 40], [25, 75])
    )
    assert stats["b"]["repeats"] == 4
    with pytest.raises(ValueError, match="repeats"):
        interleaved_stats(calls, repeats=0)


def test_told_apart_needs_the_interquartile_ranges_apart():
    a = {"q1": 1.0, "q3": 2.0}
    assert told_apart(a, {"q1": 2.5, "q3": 3.0}) and told_apart({"q1": 2.5, "q3": 3.0}, a)
    assert not told_apart(a, {"q1": 1.5, "q3": 3.0})  # overlapping
    assert not told_apart(a, {"q1": 2.0, "q3": 3.0})  # touching: not apart
    assert not told_apart(a, {"q1": 0.0, "q3": 5.0})  # one inside the other
