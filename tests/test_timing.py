"""Wall-clock timing helpers (kplearn.timing)."""

import pytest

from kplearn.timing import median_ms, time_per_image


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
