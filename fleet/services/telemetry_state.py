"""Keeping the latest state of networks, meters and chargers current as telemetry arrives.

A gateway's clock may run ahead (up to the protocol's one-day window): a time
is never taken as later than the moment it arrived, or one sample from the
future would freeze a network's live state and make a silent meter look fresh.
"""

from __future__ import annotations

from datetime import datetime

from gateways.protocol.telemetry import SampleRecord
from gateways.protocol.telemetry import TelemetryEvent as EventItem

from fleet.models import Charger, ChargerState, EventType, Gateway, Meter, MeterState, NetworkState


_CHARGER_STATE_FIELDS = ["available", "setpoint_a", "current_a", "reason", "failsafe_confirmed", "sample_ts"]


def latest_state_update(gateway: Gateway, network_ids: dict[str, int], items, *, now: datetime) -> None:
    """Apply a batch's newest facts per network: mode and grid, charger setpoints, meter availability.

    `items` are the batch's new `SampleRecord`s and events in any order; the
    newest by seq wins. Whatever the batch's size, this is a handful of
    queries per network, not per item.
    """

    def _ts(value: str) -> datetime:
        return min(datetime.fromisoformat(value), now)

    newest_sample: dict[int, SampleRecord] = {}
    meter_facts: dict[int, tuple[int, bool, str, str]] = {}  # network id -> (seq, available, ts, detail)
    for item in items:  # one pass keeping the highest seq (seqs are unique in a batch): no sort of thousands
        network_id = network_ids.get(item.network or "")
        if network_id is None:
            continue
        fact = None
        if type(item) is SampleRecord:
            newest = newest_sample.get(network_id)
            if newest is None or newest.seq < item.seq:
                newest_sample[network_id] = item
            if item.grid_current_a is not None:
                fact = (item.seq, True, item.ts, "")
        elif isinstance(item, EventItem) and item.type in (EventType.METER_LOST, EventType.METER_RESTORED):
            fact = (item.seq, item.type == EventType.METER_RESTORED, item.ts, item.detail)
        if fact is not None and (network_id not in meter_facts or meter_facts[network_id][0] < fact[0]):
            meter_facts[network_id] = fact

    for network_id, sample in newest_sample.items():
        ts = _ts(sample.ts)
        state, created = NetworkState.objects.get_or_create(network_id=network_id)
        if created or state.sample_ts is None or state.sample_ts <= ts or state.sample_ts > now:
            state.mode = sample.mode
            state.grid_current_a = None if sample.grid_current_a is None else list(sample.grid_current_a)
            state.headroom_a = None if sample.headroom_a is None else list(sample.headroom_a)
            state.sample_ts = ts
            state.save()
        chargers = {str(pk): pk for pk in Charger.objects.filter(network_id=network_id).values_list("pk", flat=True)}
        # One upsert for all chargers of the network, however many there are.
        ChargerState.objects.bulk_create(
            [
                ChargerState(
                    charger_id=chargers[key], available=c["available"], setpoint_a=c["setpoint_a"],
                    current_a=None if c["current_a"] is None else list(c["current_a"]), reason=c["reason"],
                    failsafe_confirmed=c.get("failsafe_confirmed"), sample_ts=ts,
                )
                for key, c in sample.chargers.items() if key in chargers
            ],
            update_conflicts=True, unique_fields=["charger"], update_fields=_CHARGER_STATE_FIELDS,
        )

    for network_id, (_, available, ts_text, detail) in meter_facts.items():
        meter = Meter.objects.filter(network_id=network_id).first()
        if meter is None:
            continue
        ts = _ts(ts_text)
        state, _ = MeterState.objects.get_or_create(meter=meter)
        if available:
            state.available, state.lost_since, state.detail = True, None, ""
            state.last_reading_at = max(filter(None, [state.last_reading_at, ts]))
        elif state.available:
            state.available, state.lost_since, state.detail = False, ts, detail
        state.save()
