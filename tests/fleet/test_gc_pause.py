"""The telemetry view holds the cyclic collector off for one request and always gives it back."""

import gc
import threading

import pytest

from fleet.sync.gc_pause import gc_paused


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_on_again_after_even_when_the_request_fails():
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("the view failed")
    assert gc.isenabled()


def test_overlapping_requests_keep_it_off_until_the_last_one_ends():
    first_inside, release_first = threading.Event(), threading.Event()

    def first():
        with gc_paused():
            first_inside.set()
            release_first.wait(5)

    worker = threading.Thread(target=first)
    worker.start()
    first_inside.wait(5)
    with gc_paused():
        pass
    assert not gc.isenabled(), "the first request is still inside"
    release_first.set()
    worker.join(5)
    assert gc.isenabled()


def test_a_collector_switched_off_by_someone_else_stays_off():
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()
