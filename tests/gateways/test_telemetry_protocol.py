"""The telemetry wire format: what the agent records parses back unchanged; every bad value is a TelemetryError naming it."""

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balancing import Allocation, reasons
from gateways.buffer import TelemetryBuffer
from gateways.chargers.base import ChargerReading, ChargingState, FailsafeSettings, PlugState
from gateways.protocol import ChargerConfig, TelemetryError, TelemetrySample, parse_batch, parse_batch_records
from gateways.protocol.fields import Fields
from gateways.protocol.telemetry import MAX_SEQ, SampleRecord
from gateways.protocol.telemetry_parse import CLOCK_UNSET_BEFORE, _plain_sample, parse_item
from gateways.recorder import Recorder
from gateways.charger_slot import ChargerSlot

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def sample(seq: int = 1, **changes) -> dict:
    item = {
        "seq": seq, "kind": "sample", "ts": "2026-12-01T11:00:00.250Z", "network": "7", "mode": "normal",
        "grid_current_a": [10.5, 9.0, 8.25], "headroom_a": [4.0, 5.0, 6.0],
        "chargers": {"12": {"current_a": [6.0, 6.0, 6.0], "setpoint_a": 6.0, "reason": "limited_by_phase_L1",
                            "available": True, "failsafe_confirmed": True}},
    }
    item.update(changes)
    return item


def event(seq: int = 2, **changes) -> dict:
    item = {"seq": seq, "kind": "event", "ts": "2026-12-01T11:00:01Z", "network": "7", "type": "meter_lost",
            "detail": "MeterTransportError: timed out", "subject": "meter"}
    item.update(changes)
    return item


def batch(*items, gaps=()) -> dict:
    return {"gateway": "3", "items": list(items), "gaps": [list(g) for g in gaps]}


def refused(data, **kwargs) -> TelemetryError:
    with pytest.raises(TelemetryError) as caught:
        parse_batch(data, **{"now": NOW, "networks": {"7"}, **kwargs})
    return caught.value


# --- what the agent records is what the server reads -------------------------------------------


def test_the_recorders_items_travel_through_the_buffer_and_parse_back_unchanged(tmp_path):
    buffer = TelemetryBuffer(tmp_path / "buffer.sqlite3")
    recorder = Recorder(buffer)
    armed = ChargerSlot(ChargerConfig(id="12", driver="simulated"), driver=None,
                        reading=ChargerReading(PlugState.PLUGGED, ChargingState.CHARGING, True, (6.01, 5.99, 6.0), 6.0,
                                               monotonic_s=100.0),
                        failsafe_confirmed=FailsafeSettings(timeout_s=60, current_a=6.0))
    unarmed = ChargerSlot(ChargerConfig(id="13", driver="simulated"), driver=None, available=False)
    allocation = Allocation(mode="normal", setpoints_a={"12": 6.0, "13": 0.0},
                            reasons={"12": reasons.limited_by_phase(0), "13": reasons.CHARGER_UNREACHABLE},
                            headroom_a=(1.0, 2.5, 3.0))

    class Grid:
        current_a = (20.1234, 18.0, 19.5)

    recorder.sample("7", allocation, Grid(), {"12": armed, "13": unarmed})
    recorder.event("meter_lost", "7", "x" * 5000, subject="meter")
    pending = buffer.pending(10)
    wire = json.loads(json.dumps({"gateway": "3", "items": pending.items, "gaps": pending.gaps}))
    parsed = parse_batch(wire, now=datetime.now(UTC), networks={"7"})

    assert [item.to_dict() for item in parsed.items] == pending.items
    first = parsed.items[0]
    assert isinstance(first, TelemetrySample) and first.seq == 1 and first.grid_current_a == (20.123, 18.0, 19.5)
    assert first.chargers["12"].failsafe_confirmed is True and first.chargers["13"].failsafe_confirmed is False
    assert first.chargers["13"].reason == "charger_unreachable" and first.chargers["13"].current_a is None
    assert len(parsed.items[1].detail) == 2000  # cut by the recorder, not refused by the server


def test_an_older_agent_without_failsafe_confirmed_still_validates():
    old = sample()
    del old["chargers"]["12"]["failsafe_confirmed"]
    charger = parse_batch(batch(old), now=NOW).items[0].chargers["12"]
    assert charger.failsafe_confirmed is None and "failsafe_confirmed" not in charger.to_dict()


def test_times_are_stored_in_utc_and_an_unset_clock_is_restamped_with_the_servers_time():
    items = parse_batch(batch(sample(1, ts="2026-12-01T12:30:00+01:30"), sample(2, ts="1970-01-01T00:00:42Z")), now=NOW).items
    assert items[0].ts == "2026-12-01T11:00:00Z"
    assert items[1].ts == "2026-12-01T12:00:00Z" and CLOCK_UNSET_BEFORE.year == 2020


def test_the_name_in_a_batch_is_informational():
    assert parse_batch({"items": [sample()]}, now=NOW).gateway == ""
    assert parse_batch({"gateway": "any old name", "items": [sample()]}, now=NOW).gateway == "any old name"


# --- each bad value is refused naming the item and field -----------------------------------------

BAD = [
    # sequence numbers must fit bigint
    (batch(sample(2**63)), "items[0].seq"),
    (batch(sample(10**30)), "items[0].seq"),
    (batch(sample(1e30)), "items[0].seq"),
    (batch(sample(0)), "items[0].seq"),
    (batch(sample(True)), "items[0].seq"),
    # each seq once per batch
    (batch(sample(1), sample(3), event(1)), "items[2].seq"),
    # texts must fit their columns and be storable
    (batch(sample(chargers={"12": {**sample()["chargers"]["12"], "reason": "r" * 65}})), "items[0].chargers.12.reason"),
    (batch(sample(chargers={"12": {**sample()["chargers"]["12"], "reason": "a\x00b"}})), "items[0].chargers.12.reason"),
    (batch(event(subject="s" * 101)), "items[0].subject"),
    (batch(event(detail="d" * 2001)), "items[0].detail"),
    (batch(event(detail="bad \ud800 surrogate")), "items[0].detail"),
    (batch(event(detail={"not": "text"})), "items[0].detail"),
    (batch(sample(network="n" * 5000)), "items[0].network"),
    (batch(sample(chargers={"c" * 101: sample()["chargers"]["12"]})), "items[0].chargers"),
    # times: a zone, an offset PostgreSQL takes, representable in UTC, near the server's clock
    (batch(sample(ts="2026-12-01T11:00:00+23:30")), "items[0].ts"),
    (batch(sample(ts="2026-12-01T11:00:00-16:00")), "items[0].ts"),
    (batch(sample(ts="9999-12-31T23:00:00-14:00")), "items[0].ts"),
    (batch(sample(ts="0001-01-01T00:30:00+01:00")), "items[0].ts"),
    (batch(sample(ts="9999-12-31T00:00:00Z")), "items[0].ts"),
    (batch(sample(ts="2021-01-01T00:00:00Z")), "items[0].ts"),
    (batch(sample(ts="2026-12-02T12:00:01Z")), "items[0].ts"),
    (batch(sample(ts="2026-12-01T11:00:00")), "items[0].ts"),
    (batch(sample(ts="yesterday")), "items[0].ts"),
    (batch(sample(ts=1764586800)), "items[0].ts"),
    # numbers within physical bounds
    (batch(sample(grid_current_a=[1.0, float("nan"), 2.0])), "items[0].grid_current_a[1]"),
    (batch(sample(grid_current_a=[1.0, 2.0, 10**400])), "items[0].grid_current_a[2]"),
    (batch(sample(headroom_a=[1.0, 2.0])), "items[0].headroom_a"),
    (batch(sample(chargers={"12": {**sample()["chargers"]["12"], "setpoint_a": -1.0}})), "items[0].chargers.12.setpoint_a"),
    (batch(sample(chargers={"12": {**sample()["chargers"]["12"], "failsafe_confirmed": "yes"}})),
     "items[0].chargers.12.failsafe_confirmed"),
    # only the site's networks
    (batch(sample(network="8")), "items[0].network"),
    (batch(event(network="8")), "items[0].network"),
    # codes and shapes
    (batch(event(type="meter_exploded")), "items[0].type"),
    (batch(sample(mode="panic")), "items[0].mode"),
    (batch(sample(extra=1)), "items[0].extra"),
    (batch(sample(), gaps=[(5, 2**63)]), "gaps[0]"),
    ({"gateway": 3, "items": []}, "gateway"),
    ({"items": "many"}, "items"),
]


@pytest.mark.parametrize(("data", "field"), BAD, ids=[field + "-" + str(i) for i, (_, field) in enumerate(BAD)])
def test_a_bad_value_refuses_the_batch_naming_item_and_field(data, field):
    error = refused(data)
    assert error.path.startswith(field), str(error)
    assert len(str(error)) < 400  # a 5,000-character value is not echoed whole


def test_the_window_and_the_network_check_need_the_servers_knowledge():
    far = batch(sample(ts="2021-01-01T00:00:00Z", network="anything"))
    assert parse_batch(far).items[0].ts == "2021-01-01T00:00:00Z"
    assert refused(far).path == "items[0].ts"


def test_the_error_knows_the_index_of_the_refused_item():
    assert refused(batch(sample(1), sample(2, mode="panic"))).item_index == 1
    assert refused({"gateway": 3, "items": []}).item_index is None


# --- whatever arrives, the only failure is a TelemetryError ------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
FIELDS = ["seq", "kind", "ts", "network", "mode", "grid_current_a", "headroom_a", "chargers", "type", "detail", "subject"]


@st.composite
def mutated_batches(draw):
    """A valid batch with some fields replaced by arbitrary JSON values, dropped, or added."""
    items = [sample(1), event(2), sample(3)]
    if draw(st.booleans()):
        charger = items[0]["chargers"]["12"]
        charger[draw(st.sampled_from(["current_a", "setpoint_a", "reason", "available", "failsafe_confirmed", "x"]))] = (
            draw(json_values))
    for _ in range(draw(st.integers(0, 4))):
        item = draw(st.sampled_from(items))
        key = draw(st.sampled_from(FIELDS + ["extra"]))
        action = draw(st.sampled_from(["replace", "drop"]))
        if action == "drop":
            item.pop(key, None)
        else:
            item[key] = draw(json_values)
    data = batch(*items)
    if draw(st.booleans()):
        data[draw(st.sampled_from(["gateway", "items", "gaps", "other"]))] = draw(json_values)
    return data


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_batches())
def test_any_mutation_of_a_batch_parses_or_is_a_telemetry_error(data):
    try:
        parsed = parse_batch(data, now=NOW, networks={"7"})
    except TelemetryError:
        return
    assert parse_batch(parsed.to_dict(), now=NOW, networks={"7"}) == parsed  # what passes travels unchanged


@settings(max_examples=200)
@given(json_values)
def test_any_json_document_parses_or_is_a_telemetry_error(data):
    try:
        parse_batch(data, now=NOW)
    except TelemetryError:
        pass


numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(min_value=-(10**20), max_value=10**20)
phases = st.none() | st.lists(numbers, min_size=2, max_size=4)
keys = st.text(max_size=6) | st.sampled_from(["7", "8", " ", "n" * 101])


@st.composite
def sample_shaped(draw):
    """Samples in the common shape with values anywhere, for comparing the fast check with the full parser."""
    chargers = draw(st.dictionaries(keys, st.fixed_dictionaries(
        {"setpoint_a": numbers, "reason": st.text(max_size=70)},
        optional={"current_a": phases, "available": st.booleans(), "failsafe_confirmed": st.none() | st.booleans()},
    ), max_size=3))
    return {
        "seq": draw(st.integers(min_value=-2, max_value=MAX_SEQ + 2)), "kind": "sample",
        "ts": draw(st.sampled_from(["2026-12-01T11:00:00Z", "1970-01-01T00:00:00Z", "2026-12-03T00:00:00Z",
                                    "2026-12-01T11:00:00+16:00", "2026-12-01T11:00", "2026-12-01T11:00:00.250000Z",
                                    "2026-12-01T11:00:00.000000Z", "2026-12-01T11:00:00.25Z", "2026-02-30T11:00:00Z",
                                    "2026-11-01T12:00:00Z", "2026-11-01T11:59:59.999999Z", "2026-12-02T12:00:00Z",
                                    "2026-12-02T12:00:00.000001Z", "2026-12-01T12:30:00+01:00", "0000-01-01T00:00:00Z"])),
        "network": draw(keys), "mode": draw(st.sampled_from(["normal", "fallback", "other"])),
        "grid_current_a": draw(phases), "headroom_a": draw(phases), "chargers": chargers,
    }


@settings(max_examples=400)
@given(sample_shaped())
def test_the_fast_check_accepts_only_what_the_full_parser_accepts_and_reads_it_the_same(raw):
    fast = _plain_sample(copy.deepcopy(raw), NOW, frozenset({"7"}))
    try:
        full = parse_item(Fields(raw, "items[0]", TelemetryError), now=NOW, networks=frozenset({"7"}))
    except TelemetryError:
        assert fast is None
        return
    assert fast is None or fast == full


def numbered(items: list[dict]) -> dict:
    return batch(*(dict(item, seq=index + 1) for index, item in enumerate(items)))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_batches() | st.lists(sample_shaped(), max_size=3).map(numbered))
def test_the_servers_records_are_the_protocols_items_as_stored(data):
    """parse_batch_records validates exactly as parse_batch does; each sample's chargers are their to_dict()."""
    try:
        items = parse_batch(copy.deepcopy(data), now=NOW, networks={"7"})
    except TelemetryError as problem:
        with pytest.raises(TelemetryError) as caught:
            parse_batch_records(data, now=NOW, networks={"7"})
        assert (caught.value.path, caught.value.problem) == (problem.path, problem.problem)
        return
    records = parse_batch_records(data, now=NOW, networks={"7"})
    assert (records.gateway, records.gaps) == (items.gateway, items.gaps)
    assert [as_record(item) for item in items.items] == [plain_record(item) for item in records.items]


def as_record(item):
    """What the server stores of an item, from the protocol's dataclass."""
    if isinstance(item, TelemetrySample):
        return (item.seq, item.ts, item.network, item.mode, item.grid_current_a, item.headroom_a,
                {key: c.to_dict() for key, c in item.chargers.items()})
    return item


def plain_record(item):
    """A record with its phase lists as tuples, comparable with `as_record`."""
    if isinstance(item, SampleRecord):
        tupled = (lambda v: None if v is None else tuple(v))
        return (item.seq, item.ts, item.network, item.mode, tupled(item.grid_current_a), tupled(item.headroom_a),
                item.chargers)
    return item


def test_dates_near_the_ends_of_the_calendar_are_refused_without_a_window_too():
    for ts in ("9999-12-31T23:59:59-15:00", "0001-01-01T00:00:00+15:00"):
        with pytest.raises(TelemetryError):
            parse_batch(batch(sample(ts=ts)))
    assert NOW - timedelta(days=30) < datetime.fromisoformat(parse_batch(batch(sample()), now=NOW).items[0].ts)
