"""A simulated gateway numbers, records and holds telemetry as the agent does; the server's mark alone drops items."""

from datetime import UTC, datetime

import pytest

from gateways.fleetsim.gateway import SimulatedGateway
from gateways.fleetsim.runner import NotLoopback, require_loopback
from gateways.fleetsim.session import next_pause_s, server_failed
from gateways.fleetsim.stats import backlog_growing
from gateways.protocol import parse_batch, parse_site_config

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()


def config(poll_interval_s: float = 1.0, chargers: int = 2, networks: int = 1):
    return parse_site_config({
        "gateway": {"id": "42", "poll_interval_s": poll_interval_s},
        "networks": [{
            "id": str(10 + n), "max_current_per_phase_a": 32, "fallback_power_w": 4140,
            "meter": {"model": "carlo-gavazzi-em24", "host": "127.0.0.1", "port": 502},
            "chargers": [{"id": f"{n}-{c}", "driver": "simulated", "max_current_a": 16} for c in range(chargers)],
        } for n in range(networks)],
    })


def recording_gateway(meter_loss_per_hour: float = 0.0, **config_options) -> SimulatedGateway:
    gateway = SimulatedGateway("fgw_test", seed=1, meter_loss_per_hour=meter_loss_per_hour)
    gateway.apply_config(config(**config_options), etag='"abc"')
    gateway.start_recording(T0)
    return gateway


def seqs(items) -> list[int]:
    return [item["seq"] for item in items]


# --- recording --------------------------------------------------------------------------------------


@pytest.mark.parametrize("poll_interval_s, networks, elapsed_s, expected", [
    # one sample per network and poll interval, the first at the start
    (1.0, 1, 15.0, 16),
    (1.0, 2, 15.0, 32),
    (0.5, 1, 2.0, 5),
    (5.0, 1, 14.9, 3),
])
def test_samples_are_made_at_the_poll_interval_with_their_own_times(poll_interval_s, networks, elapsed_s, expected):
    gateway = recording_gateway(poll_interval_s=poll_interval_s, networks=networks)

    gateway.record_until(T0 + elapsed_s)

    items = gateway.batch()
    assert len(items) == expected
    assert seqs(items) == list(range(1, expected + 1))
    times = sorted({item["ts"] for item in items}, key=datetime.fromisoformat)
    assert times[0] == "2026-03-01T12:00:00Z"
    assert [datetime.fromisoformat(t).timestamp() - T0 for t in times] == [i * poll_interval_s for i in range(len(times))]


def test_recording_in_steps_continues_the_numbering_and_the_time_grid_without_doubles():
    gateway = recording_gateway()

    gateway.record_until(T0 + 4.5)
    gateway.record_until(T0 + 9.2)

    items = gateway.batch()
    assert seqs(items) == list(range(1, 11))
    assert len({item["ts"] for item in items}) == 10


def test_the_items_are_the_wire_form_the_server_parses():
    gateway = recording_gateway(meter_loss_per_hour=3600.0, networks=2)  # a meter lost or back at every chance
    gateway.record_until(T0 + 30)

    body = gateway.body(gateway.batch())
    batch = parse_batch(body, now=datetime.fromtimestamp(T0 + 60, UTC), networks={"10": 1, "11": 2})

    assert [item.seq for item in batch.items] == list(range(1, gateway.last_seq + 1))
    assert {item.kind for item in batch.items} == {"sample", "event"}


def test_meter_outages_are_reported_as_lost_then_restored_with_fallback_samples_between():
    gateway = recording_gateway(meter_loss_per_hour=300.0)
    gateway.record_until(T0 + 3600)

    items = gateway.batch()
    edges = [item["type"] for item in items if item["kind"] == "event"]
    assert edges[:2] == ["meter_lost", "meter_restored"]
    assert all(a != b for a, b in zip(edges, edges[1:])), "a lost meter is restored before it is lost again"
    lost = False
    for item in items:
        if item["kind"] == "event":
            lost = item["type"] == "meter_lost"
        else:
            assert item["mode"] == ("fallback" if lost else "normal")
            assert (item["grid_current_a"] is None) == lost


# --- batches, acknowledgement and resend ---------------------------------------------------------------


def test_a_batch_holds_the_oldest_items_up_to_the_limit():
    gateway = recording_gateway()
    gateway.record_until(T0 + 99)

    assert seqs(gateway.batch(limit=30)) == list(range(1, 31))


def test_unacknowledged_items_are_sent_again_and_only_the_servers_mark_drops_them():
    gateway = recording_gateway()
    gateway.record_until(T0 + 9)
    first = gateway.batch()

    # the upload failed (error, timeout): nothing is acknowledged, the same items go again
    assert gateway.batch() == first

    # the server stored the first four only (it answers its contiguous mark)
    assert gateway.acknowledge(4) == 4
    gateway.record_until(T0 + 14)
    assert seqs(gateway.batch()) == list(range(5, 16))
    assert gateway.backlog(T0 + 14) == 11

    assert gateway.acknowledge(15) == 11
    assert gateway.batch() == []
    assert gateway.acked_seq == 15


def test_an_old_mark_answered_again_drops_nothing_more():
    gateway = recording_gateway()
    gateway.record_until(T0 + 9)
    gateway.acknowledge(6)

    assert gateway.acknowledge(3) == 0
    assert seqs(gateway.batch()) == [7, 8, 9, 10]
    assert gateway.acked_seq == 6


def test_a_server_holding_more_than_this_run_issued_gets_the_items_renumbered_above_its_mark():
    gateway = recording_gateway()
    gateway.record_until(T0 + 4)

    assert gateway.acknowledge(1000) == 0

    assert seqs(gateway.batch()) == [1001, 1002, 1003, 1004, 1005]
    gateway.record_until(T0 + 5)
    assert gateway.batch()[-1]["seq"] == 1006


def test_the_backlog_counts_what_a_real_gateway_would_hold_recorded_or_not():
    gateway = recording_gateway()

    assert gateway.backlog(T0 + 14.5) == 15  # recorded each second by a real agent; here made at the upload
    gateway.record_until(T0 + 14.5)
    assert gateway.backlog(T0 + 14.5) == 15
    gateway.acknowledge(15)
    assert gateway.backlog(T0 + 15.0) == 1

    gateway.stop_recording(T0 + 15.0)
    assert gateway.backlog(T0 + 60.0) == 1  # a stopped gateway holds only what it recorded


# --- the run ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://127.0.0.2:80/", "http://localhost:8000", "http://[::1]:8000"])
def test_servers_on_this_machine_are_accepted(url):
    require_loopback(url)


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000", "https://fleet.example.com", "http://0.0.0.0:8000"])
def test_servers_off_this_machine_are_refused(url):
    with pytest.raises(NotLoopback, match="only targets a server on this machine"):
        require_loopback(url)


@pytest.mark.parametrize("start, middle, end, growing", [
    (7.5, 7.6, 7.4, False),     # between uploads: half an interval's worth on average
    (7.5, 8.0, 8.6, False),     # a little noise upwards
    (14.5, 21.8, 28.1, True),   # climbing steadily, still under two intervals
    (7.5, 20.0, 45.0, True),    # far behind and falling further
    (40.0, 45.0, 20.0, False),  # was behind, catching up
])
def test_a_backlog_grows_when_it_climbs_steadily_or_ends_past_two_intervals_and_rising(start, middle, end, growing):
    snapshots = {name: {"mean": mean} for name, mean in (("start", start), ("middle", middle), ("end", end))}

    assert backlog_growing(snapshots, items_per_interval=15) is growing


@pytest.mark.parametrize("status, failed", [
    ("200", False), ("400", False), ("429", False),  # answered: the server is there
    ("500", True), ("503", True), ("timeout", True), ("error", True),
])
def test_no_answer_or_a_5xx_counts_as_a_failing_server(status, failed):
    assert server_failed(status) is failed


def test_uploads_back_off_while_the_server_fails_as_the_agents_do():
    pauses, pause_s = [], 15.0
    for failed in (True, True, True, True, False):
        pause_s = next_pause_s(pause_s, failed, interval_s=15.0)
        pauses.append(pause_s)

    assert pauses == [30.0, 60.0, 60.0, 60.0, 15.0]
