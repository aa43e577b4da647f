"""When the regulator sends setpoints, and how it judges a charger's readings by their age.

The site is simulated (stations in process, the meter over real Modbus TCP) and
time is the test's: the regulator, the drivers' reading stamps and the
stations' watchdogs all run on one stepped clock, so renewals and ages are
exact instead of wall-clock margins.
"""

from dataclasses import replace

import pytest
import pytest_asyncio

from gateways.agent import Agent
from gateways.chargers.base import ChargerReading, ChargingState, PlugState
from gateways.setpoint_renewal import holds, renew_after_s, send_reason
from gateways.simulation import SimulatedNetwork
from tests.gateways.site_harness import simulated_site

FAILSAFE_TIMEOUT_S = 12
RENEW_AFTER_S = 4.0  # a third of the 12 s lifetime; the simulated station asks for no spacing


def reading(enabled: bool, setpoint_a: float | None, at_s: float = 10.0) -> ChargerReading:
    return ChargerReading(PlugState.PLUGGED, ChargingState.CHARGING, enabled, (0.0, 0.0, 0.0), setpoint_a, monotonic_s=at_s)


# -- the rules, as a table -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shown", "sent_a", "held"),
    [
        # told off
        (reading(False, 0.0), 0.0, True),
        (reading(True, 0.0), 0.0, True),  # on but offering nothing draws nothing
        (reading(True, 6.0), 0.0, False),  # e.g. its failsafe current after a watchdog fired
        (reading(True, None), 0.0, False),
        # told on
        (reading(True, 16.0), 16.0, True),
        (reading(True, 16.004), 16.0, True),  # mA rounding
        (reading(True, 13.0), 16.0, True),  # a hardware cap below ours: less, and safe
        (reading(True, 20.0), 16.0, False),  # more than allowed
        (reading(True, 0.0), 16.0, False),  # offering nothing: a failsafe of 0 A, or a restart
        (reading(False, 0.0), 16.0, False),
        (reading(True, None), 16.0, True),  # cannot tell: renewal covers it
    ],
)
def test_whether_a_reading_shows_the_setpoint_held(shown, sent_a, held):
    assert holds(shown, sent_a) is held


@pytest.mark.parametrize(
    ("target_a", "sent_a", "sent_at_s", "shown", "now_s", "why"),
    [
        (10.0, None, None, None, 5.0, "first"),
        (10.0, 10.0, None, None, 5.0, "first"),  # the last send failed or was held back
        (8.0, 10.0, 4.0, None, 5.0, "changed"),
        (10.0, 10.0, 4.0, reading(True, 20.0, at_s=4.5), 5.0, "not_held"),
        (10.0, 10.0, 4.0, reading(True, 20.0, at_s=4.0), 5.0, None),  # taken before the send was confirmed
        (10.0, 10.0, 1.0, reading(True, 10.0, at_s=4.5), 5.0, "renewal"),
        (10.0, 10.0, 1.5, reading(True, 10.0, at_s=4.5), 5.0, None),
    ],
)
def test_why_a_setpoint_goes_out(target_a, sent_a, sent_at_s, shown, now_s, why):
    sent_done_s = None if sent_at_s is None else sent_at_s + 0.2
    assert send_reason(target_a, sent_a, sent_at_s, sent_done_s, shown, now_s, RENEW_AFTER_S) == why


@pytest.mark.parametrize(
    ("valid_for_s", "min_resend_s", "renew_after"),
    [
        (60.0, 5.0, 20.0),  # a third of the lifetime
        (10.0, 5.0, 5.0),  # KEBA's 5 s spacing, still two renewals per lifetime
        (10.0, 0.0, 10 / 3),
        (10.0, 8.0, 5.0),  # the lifetime wins over a spacing that would let it lapse
    ],
)
def test_how_long_a_setpoint_stands_before_renewal(valid_for_s, min_resend_s, renew_after):
    assert renew_after_s(valid_for_s, min_resend_s) == pytest.approx(renew_after)


# -- the regulator on a stepped clock --------------------------------------------------------------


class SteppedClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


class MeterOnClock:
    """The real meter client over Modbus TCP, its readings stamped on the test's clock like the chargers'."""

    def __init__(self, client, clock):
        self.client, self.clock = client, clock

    async def read(self):
        return replace(await self.client.read(), monotonic_s=self.clock())

    async def close(self):
        await self.client.close()


class ClockedSite:
    def __init__(self, agent: Agent, world: SimulatedNetwork, clock: SteppedClock):
        self.agent, self.world, self.clock = agent, world, clock

    @property
    def regulator(self):
        return self.agent.regulators["main"]

    async def cycle(self):
        self.clock.now_s += 1.0
        self.world.advance(1.0)
        await self.agent.cycle()
        return self.regulator.last

    def events(self, type_: str) -> int:
        items = self.agent.buffer.pending(100_000).items
        return sum(1 for item in items if item["kind"] == "event" and item["type"] == type_)


@pytest_asyncio.fixture
async def site(tmp_path):
    clock = SteppedClock()
    raw = {
        "gateway": {"id": "renewal", "poll_interval_s": 1.0, "state_dir": str(tmp_path), "failsafe_timeout_s": FAILSAFE_TIMEOUT_S},
        "networks": [{
            "id": "main", "max_current_per_phase_a": 40, "fallback_power_w": 4140,
            "meter": {"model": "carlo-gavazzi-em24", "host": "127.0.0.1", "port": 1502, "unit_id": 1},
            "chargers": [{"id": "cp1", "driver": "simulated", "max_current_a": 16},
                         {"id": "cp2", "driver": "simulated", "max_current_a": 16}],
        }],
    }
    agent, world = await simulated_site(raw, seed=5, world_clock=clock, clock=clock)
    regulator = agent.regulators["main"]
    regulator.meter = MeterOnClock(regulator.meter, clock)
    yield ClockedSite(agent, world, clock)
    await agent.close()
    await world.stop()


@pytest.mark.asyncio
async def test_an_unchanged_setpoint_goes_out_when_due_for_renewal_not_every_cycle(site):
    for _ in range(3):
        await site.cycle()
    setpoints = dict(site.regulator.last.allocation.setpoints_a)
    assert setpoints == {"cp1": 16.0, "cp2": 16.0}
    before = {cid: station.commands_received for cid, station in site.world.stations.items()}
    sent_at = {cid: [] for cid in setpoints}
    for _ in range(12):
        result = await site.cycle()
        assert result.allocation.setpoints_a == setpoints
        for cid in result.commands_sent:
            sent_at[cid].append(site.clock.now_s)
    for cid, times in sent_at.items():
        assert site.world.stations[cid].commands_received - before[cid] == 3  # 12 s / 4 s
        assert all(later - earlier == RENEW_AFTER_S for earlier, later in zip(times, times[1:]))


@pytest.mark.asyncio
async def test_renewals_keep_the_stations_failsafe_quiet_while_the_agent_lives(site):
    for _ in range(3 * FAILSAFE_TIMEOUT_S):
        await site.cycle()
        assert not any(station.failsafe_active for station in site.world.stations.values())
    assert all(station.failsafe is not None for station in site.world.stations.values())


@pytest.mark.asyncio
async def test_a_station_that_does_not_hold_its_setpoint_gets_it_again_in_the_next_cycle(site):
    for _ in range(3):
        await site.cycle()
    station = site.world.stations["cp1"]
    station.enabled = False  # e.g. it restarted and came up paused
    result = await site.cycle()
    assert "cp1" in result.commands_sent and "cp2" not in result.commands_sent
    assert station.enabled and station.setpoint_a == 16.0


@pytest.mark.asyncio
async def test_a_charger_whose_readings_grow_old_is_lost_once_and_restored_with_a_fresh_one(site):
    for _ in range(2):
        await site.cycle()
    driver = site.regulator.slots["cp1"].driver
    stuck_at_s = site.clock.now_s
    driver.clock = lambda: stuck_at_s  # it keeps handing back a reading taken then, as a silent pushing charger would
    bound_s = site.regulator.charger_stale_after_s
    assert bound_s == 4.0  # 2 x (1 s poll + 1 s read timeout)
    ages = []
    for _ in range(7):
        result = await site.cycle()
        ages.append((site.clock.now_s - stuck_at_s, result.allocation.reasons["cp1"]))
    assert [age for age, _ in ages] == [1, 2, 3, 4, 5, 6, 7]
    assert all(reason != "charger_unreachable" for age, reason in ages if age <= bound_s)
    assert all(reason == "charger_unreachable" for age, reason in ages if age > bound_s)
    assert site.events("charger_lost") == 1
    driver.clock = site.clock
    result = await site.cycle()
    assert result.allocation.reasons["cp1"] != "charger_unreachable"
    assert "cp1" in result.commands_sent  # back from unreachable: its setpoint goes out at once
    assert site.events("charger_restored") == 1


@pytest.mark.asyncio
async def test_decreases_go_out_before_increases(site):
    site.world.house_load_a = (20.0, 2.0, 3.0)  # 20 A left on L1: the two stations share it
    for _ in range(3):
        await site.cycle()
    assert site.regulator.last.allocation.setpoints_a == {"cp1": 10.0, "cp2": 10.0}
    order = []
    for cid, slot in site.regulator.slots.items():
        def recording(current_a, valid_for_s, cid=cid, send=slot.driver.apply_setpoint):
            order.append((cid, current_a))
            return send(current_a, valid_for_s)
        slot.driver.apply_setpoint = recording
    site.world.stations["cp2"].unplug()  # cp2's share moves to cp1
    result = await site.cycle()
    assert result.allocation.setpoints_a == {"cp1": 16.0, "cp2": 0.0}
    assert order == [("cp2", 0.0), ("cp1", 16.0)]
