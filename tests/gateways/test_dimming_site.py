"""External caps at the gateway: the control box over Modbus TCP and scheduled caps by the gateway's own clock.

The site is the simulated one of test_regulation_end_to_end (meter simulator
on a loopback port, simulated chargers), plus a simulated control box on its
own port. The agent has no server here: everything happens locally.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from balancing.dimming import guaranteed_minimum_w
from gateways.simulators.control_box import ControlBoxSimulator
from gateways.status import prometheus_text
from meters.sim import Fault

from tests.gateways.site_harness import simulated_site

from .test_regulation_end_to_end import Site, site_config

THREE_CHARGERS_MINIMUM_W = guaranteed_minimum_w(3)  # 10,500 W: 4.2 kW + 2 x 0.75 x 4.2 kW


class WallClock:
    """The gateway's clock for schedules, moved by the test."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def start(tmp_path, *, dimming=None, power_caps=(), recurring_caps=(), wall_clock=None,
                box: ControlBoxSimulator | None = None):
    raw = site_config(tmp_path)
    if dimming is not None:
        raw["networks"][0]["dimming"] = {"host": "127.0.0.1", "port": box.port if box else 1, **dimming}
    raw["networks"][0]["power_caps"] = list(power_caps)
    raw["networks"][0]["recurring_caps"] = list(recurring_caps)
    agent, world = await simulated_site(raw, seed=3, wall_clock=wall_clock)
    return Site(agent, world)


def chargers_power_w(site: Site) -> float:
    """What the chargers may draw under their present setpoints, in watts."""
    return sum(site.setpoint_load_a()) * site.world.network.nominal_voltage_v


def cap_events(site: Site) -> list[tuple[str, str, str]]:
    return [
        (item["type"], item["subject"], item["detail"])
        for item in site.agent.buffer.pending(100_000).items
        if item["kind"] == "event" and item["type"].startswith("power_cap_")
    ]


@pytest_asyncio.fixture
async def box():
    simulator = ControlBoxSimulator(unit_id=3, address=7)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["discrete_input", "coil"])
async def test_the_chargers_fall_under_the_cap_in_the_cycle_the_signal_switches_and_rise_when_it_ends(tmp_path, box, kind):
    site = await start(tmp_path, dimming={"kind": kind, "address": 7, "unit_id": 3}, box=box)
    try:
        for _ in range(3):
            await site.cycle()
        assert chargers_power_w(site) > THREE_CHARGERS_MINIMUM_W + 1000  # undimmed: well above the minimum
        assert cap_events(site) == []

        box.set_dimmed(True)
        result = await site.cycle()
        assert chargers_power_w(site) <= THREE_CHARGERS_MINIMUM_W
        assert "grid_operator_cap" in result.allocation.reasons.values()
        assert box.server.reads_by_function[1 if kind == "coil" else 2] >= 4
        [(type_, subject, detail)] = cap_events(site)
        assert (type_, subject) == ("power_cap_started", "14a-control-box")
        assert detail.startswith("10500 W (grid_operator_cap), the guaranteed minimum") and "signal active" in detail
        status = site.agent.status()["networks"]["main"]
        assert status["dimming"] == {"dimmed": True, "cause": "signal active"}
        assert status["power_caps"] == {"14a-control-box": 10500}
        assert 'fuseguard_power_cap_watts{network="main",source="14a-control-box"} 10500' in prometheus_text(site.agent.status())

        box.set_dimmed(False)
        await site.cycle()
        assert chargers_power_w(site) > THREE_CHARGERS_MINIMUM_W + 1000
        assert [event[0] for event in cap_events(site)] == ["power_cap_started", "power_cap_ended"]
    finally:
        await site.agent.close()
        await site.world.stop()


@pytest.mark.asyncio
async def test_an_inverted_contact_with_a_given_cap(tmp_path):
    box = ControlBoxSimulator(address=0, active=0)
    await box.start()
    site = await start(tmp_path, dimming={"kind": "discrete_input", "address": 0, "active": 0, "power_w": 12000}, box=box)
    try:
        await site.cycle()
        assert cap_events(site) == []
        box.set_dimmed(True)  # the contact opens: the bit reads 0
        await site.cycle()
        assert chargers_power_w(site) <= 12000
        assert cap_events(site)[0][2].startswith("12000 W (grid_operator_cap): signal active")
    finally:
        await site.agent.close()
        await site.world.stop()
        await box.stop()


@pytest.mark.asyncio
async def test_an_unreadable_input_counts_as_dimmed_from_the_first_failed_read_and_at_start(tmp_path, box):
    site = await start(tmp_path, dimming={"kind": "discrete_input", "address": 7, "unit_id": 3}, box=box)
    try:
        for _ in range(2):
            await site.cycle()
        assert cap_events(site) == []
        box.server.faults.fault = Fault.SILENT
        await site.cycle()
        assert chargers_power_w(site) <= THREE_CHARGERS_MINIMUM_W
        [(type_, _, detail)] = cap_events(site)
        assert type_ == "power_cap_started" and "input unreadable, counted as dimmed" in detail
        box.server.faults.fault = Fault.NONE
        for _ in range(3):  # the link's back-off may cost a poll or two
            await site.cycle()
        assert cap_events(site)[-1][0] == "power_cap_ended"
    finally:
        await site.agent.close()
        await site.world.stop()

    # A control box that does not answer from the start: dimmed from the first cycle.
    await box.stop()
    site = await start(tmp_path / "again", dimming={"kind": "coil", "address": 7, "unit_id": 3}, box=box)
    try:
        await site.cycle()
        assert chargers_power_w(site) <= THREE_CHARGERS_MINIMUM_W
        assert "input unreadable" in cap_events(site)[0][2]
    finally:
        await site.agent.close()
        await site.world.stop()


@pytest.mark.asyncio
async def test_a_scheduled_cap_starts_and_ends_on_the_gateways_clock_without_a_server(tmp_path):
    # Local times in the gateway's zone would do as well; the fleet sends UTC.
    start_at = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    clock = WallClock(start_at - timedelta(seconds=1))
    caps = [{"source": "schedule", "power_w": 6900, "start": "2026-12-01T16:00:00Z", "end": "2026-12-01T19:00:00Z",
             "reason": "evening peak tariff", "id": "41"}]
    site = await start(tmp_path, power_caps=caps, wall_clock=clock)
    try:
        await site.cycle()
        assert chargers_power_w(site) > 6900
        clock.now = start_at
        result = await site.cycle()
        assert chargers_power_w(site) <= 6900
        assert "schedule_cap" in result.allocation.reasons.values()
        clock.now = start_at + timedelta(hours=3) - timedelta(seconds=1)
        await site.cycle()
        assert chargers_power_w(site) <= 6900
        clock.now = start_at + timedelta(hours=3)
        await site.cycle()
        assert chargers_power_w(site) > 6900
        assert [(t, s) for t, s, _ in cap_events(site)] == [("power_cap_started", "schedule:41"), ("power_cap_ended", "schedule:41")]
    finally:
        await site.agent.close()
        await site.world.stop()


@pytest.mark.asyncio
async def test_a_weekday_tariff_window_comes_and_goes_by_the_sites_clock_without_a_server(tmp_path):
    # Weekdays 17:00-20:00 Berlin time; site_config's gateway keeps the site's zone, so the cap names it.
    caps = [{"source": "schedule", "power_w": 6900, "days": ["mon", "tue", "wed", "thu", "fri"],
             "start_time": "17:00", "end_time": "20:00", "time_zone": "Europe/Berlin", "id": "12"}]
    clock = WallClock(datetime(2026, 3, 27, 15, 59, 59, tzinfo=UTC))  # Friday 16:59:59 CET
    site = await start(tmp_path, recurring_caps=caps, wall_clock=clock)
    try:
        await site.cycle()
        assert chargers_power_w(site) > 6900
        clock.now = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)  # 17:00 CET
        result = await site.cycle()
        assert chargers_power_w(site) <= 6900 and "schedule_cap" in result.allocation.reasons.values()
        clock.now = datetime(2026, 3, 27, 19, 0, tzinfo=UTC)  # 20:00 CET
        await site.cycle()
        assert chargers_power_w(site) > 6900
        clock.now = datetime(2026, 3, 28, 16, 30, tzinfo=UTC)  # Saturday
        await site.cycle()
        assert chargers_power_w(site) > 6900
        clock.now = datetime(2026, 3, 30, 15, 0, tzinfo=UTC)  # Monday 17:00, now CEST: an hour earlier in UTC
        await site.cycle()
        assert chargers_power_w(site) <= 6900
        assert [(t, s) for t, s, _ in cap_events(site)] == [
            ("power_cap_started", "schedule:recurring-12"), ("power_cap_ended", "schedule:recurring-12"),
            ("power_cap_started", "schedule:recurring-12"),
        ]
    finally:
        await site.agent.close()
        await site.world.stop()


@pytest.mark.asyncio
async def test_a_config_change_keeps_the_record_of_a_cap_in_force_and_ends_one_that_went(tmp_path):
    start_at = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    clock = WallClock(start_at)
    caps = [{"source": "operator", "power_w": 6900, "start": "2026-12-01T16:00:00Z", "id": "5"}]
    site = await start(tmp_path, power_caps=caps, wall_clock=clock)
    try:
        await site.cycle()
        config = site.agent.config
        network = config.networks[0]
        await site.agent.apply_config(replace(config, networks=(replace(network, max_power_w=20000),)))
        await site.cycle()
        assert [t for t, _, _ in cap_events(site)] == ["power_cap_started"]  # still the same cap: no new start
        await site.agent.apply_config(replace(config, networks=(replace(network, id="renamed", power_caps=()),)))
        await site.agent.cycle()
        assert [(t, s) for t, s, _ in cap_events(site)] == [("power_cap_started", "operator:5"), ("power_cap_ended", "operator:5")]
    finally:
        await site.agent.close()
        await site.world.stop()
