"""Every catalog entry round-trips through its simulator over real TCP.

This proves the plumbing (planning, requests, word order, scale) is consistent; that the
maps match the manufacturers' documents is proven by test_decode_tables.py.
"""

from __future__ import annotations

import asyncio

import pytest

from meters import MeterClient, all_models, get_model, model_keys
from meters.errors import MeterMapError
from meters.registers import Protocol, Quantity
from meters.sim import MeterSimulator

READABLE = [m.key for m in all_models() if m.readable]
UNREADABLE = [m.key for m in all_models() if not m.readable]

NEW_VALUES = {
    "current_a": [31.5, 0.25, 17.0],
    "voltage_v": [228.0, 233.5, 0.0],
    "power_w": [7100.0, -40.0, 3900.0],
    "power_total_w": -2500.0,
    "energy_import_wh": 98_765_400.0,
    "energy_export_wh": 1_200_000.0,
    "frequency_hz": 49.95,
}


def expected(key: str, values: dict) -> dict:
    """What a reading of `key` shows for `values`: None where the map has no such register."""
    model = get_model(key)
    present = (
        set(Quantity) if model.protocol is Protocol.SUNSPEC else {r.quantity for r in model.registers}
    )
    result: dict = {}
    for field in ("current_a", "voltage_v", "power_w"):
        result[field] = [
            values[field][q.phase] if q in present else None
            for q in Quantity
            if q.reading_field == field
        ]
    for quantity in (Quantity.POWER_TOTAL, Quantity.ENERGY_IMPORT, Quantity.ENERGY_EXPORT, Quantity.FREQUENCY):
        result[quantity.reading_field] = values[quantity.reading_field] if quantity in present else None
    return result


def assert_matches(reading_dict: dict, wanted: dict) -> None:
    for field, value in wanted.items():
        if isinstance(value, list):
            # Per phase: None where the map lacks that phase's register (the M4M's phase powers).
            got = reading_dict[field]
            assert [g is None for g in got] == [v is None for v in value], field
            assert [g for g in got if g is not None] == pytest.approx(
                [v for v in value if v is not None], rel=1e-3, abs=0.05
            ), field
        elif value is None:
            assert reading_dict[field] is None, field
        else:
            assert reading_dict[field] == pytest.approx(value, rel=1e-3, abs=0.05), field


def test_the_issue_s_model_keys_are_all_in_the_catalog() -> None:
    required = {
        "keba-kecontact-e10", "abb-m2m", "abb-m4m", "carlo-gavazzi-em24", "fronius-ts65a-gen24",
        "gossen-metrawatt-em228x", "gossen-metrawatt-em238x", "kostal-ksem", "siemens-7km2200",
        "tq-em420", "tq-em300-lr", "tq-em300-lrw",
    }
    assert required <= set(model_keys())
    assert list(model_keys()) == sorted(model_keys())


@pytest.mark.asyncio
@pytest.mark.parametrize("key", READABLE)
async def test_catalog_entry_round_trips_through_its_simulator(key: str) -> None:
    async with MeterSimulator(key) as sim:
        async with MeterClient(key, "127.0.0.1", sim.port, timeout_s=2) as client:
            first = await client.read()
            assert_matches(first.to_json_dict(), expected(key, sim.values))
            sim.set_values(NEW_VALUES)
            second = await client.read()
            assert_matches(second.to_json_dict(), expected(key, NEW_VALUES))
            assert second.monotonic_s >= first.monotonic_s
            assert second.read_at.tzinfo is not None


@pytest.mark.asyncio
@pytest.mark.parametrize("key", READABLE)
async def test_no_request_exceeds_125_registers(key: str) -> None:
    async with MeterSimulator(key) as sim:
        async with MeterClient(key, "127.0.0.1", sim.port, timeout_s=2) as client:
            await client.read()
            assert client.blocks
            assert all(1 <= block.count <= 125 for block in client.blocks)


@pytest.mark.parametrize("key", UNREADABLE)
def test_entries_without_a_map_say_so_and_refuse_to_read(key: str) -> None:
    model = get_model(key)
    assert model.verification.startswith("unverified")
    assert not model.registers
    with pytest.raises(MeterMapError, match="custom map"):
        MeterClient(key, "127.0.0.1", 1502)


@pytest.mark.asyncio
async def test_frozen_simulator_keeps_serving_old_values() -> None:
    async with MeterSimulator("carlo-gavazzi-em24") as sim:
        async with MeterClient("carlo-gavazzi-em24", "127.0.0.1", sim.port, timeout_s=2) as client:
            sim.freeze()
            sim.set_values(current_a=[1.0, 1.0, 1.0])
            assert (await client.read()).current_a[0] == pytest.approx(12.5)
            sim.freeze(False)
            assert (await client.read()).current_a[0] == pytest.approx(1.0)


@pytest.mark.asyncio
async def test_concurrent_reads_share_one_connection_in_turn() -> None:
    async with MeterSimulator("carlo-gavazzi-em24") as sim:
        async with MeterClient("carlo-gavazzi-em24", "127.0.0.1", sim.port, timeout_s=2) as client:
            readings = await asyncio.gather(*(client.read() for _ in range(8)))
    assert all(r.current_a[0] == pytest.approx(12.5) for r in readings)
