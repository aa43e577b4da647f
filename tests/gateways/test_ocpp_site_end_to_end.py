"""The agent regulating simulated OCPP 1.6J charge points over real websockets, with a meter over Modbus TCP.

Three charge points dial in to the agent's central system on loopback; a
fourth rejects every profile, a stranger and a charger with a wrong password
knock too. A meter simulator sees the house load plus what the vehicles draw.
The in-process test drives the agent's cycles itself and checks at every
cycle that what the chargers' profiles allow fits the limits; the process
test kills the agent with SIGKILL and watches every charger fall back by
itself to its stack-level-0 failsafe current, then re-armed by a new agent.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytest_asyncio

from balancing.phases import grid_phase
from gateways.failsafe import failsafe_plan
from gateways.ocpp16.profiles import FAILSAFE_PROFILE_ID, LIVE_PROFILE_ID
from gateways.protocol import parse_site_config
from gateways.simulators.ocpp_station import OcppStation, OcppVehicle, StationQuirks
from tests.gateways.site_harness import MeteredSite, agent_beside, cycle_until, eventually
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
LIMIT_A = 63
FALLBACK_POWER_W = 6900  # 30 A x 230 V: e.g. the three-phase chargers at 6 A and the single-phase one at 6 A... or less
PASSWORD = "sixteen-chars-pw!"
# charger id -> (phase rotation, wired phases); cp-rejects refuses every profile
STATIONS = {"cp1": ("L1L2L3", 3), "cp2": ("L2L3L1", 3), "cp3": ("L3L1L2", 1), "cp-rejects": ("L1L2L3", 3)}
REGULATED = ("cp1", "cp2", "cp3")


def site_config(tmp_path: Path, ocpp_port: int, meter_port: int, poll_interval_s: float = 1.0) -> dict:
    """The site as the agent's TOML would hold it."""
    return {
        "gateway": {"id": "ocpp-site", "poll_interval_s": poll_interval_s, "state_dir": str(tmp_path / "state"),
                    "ocpp_listen": f"127.0.0.1:{ocpp_port}", "failsafe_timeout_s": 10},
        "networks": [{
            "id": "main", "max_current_per_phase_a": LIMIT_A, "fallback_power_w": FALLBACK_POWER_W,
            "meter": {"model": "carlo-gavazzi-em24", "host": "127.0.0.1", "port": meter_port},
            "chargers": [
                {"id": cid, "driver": "ocpp16", "phase_rotation": rotation, "phases": phases, "max_current_a": 16,
                 **({"password": PASSWORD} if cid == "cp1" else {})}
                for cid, (rotation, phases) in STATIONS.items()
            ],
        }],
    }


class OcppSite(MeteredSite):
    """House load, the charge points and the meter that sees them all."""

    def __init__(self, ocpp_port: int):
        url = f"ws://127.0.0.1:{ocpp_port}"
        super().__init__(
            {
                cid: OcppStation(url, cid, wired_phases=phases, password=PASSWORD if cid == "cp1" else None,
                                 quirks=StationQuirks(reject_profiles=cid == "cp-rejects", hardware_max_a=16),
                                 reconnect_s=0.2)
                for cid, (_, phases) in STATIONS.items()
            },
            {cid: rotation for cid, (rotation, _) in STATIONS.items()},
        )

    def station_current_a(self, charger_id: str) -> list[float]:
        return list(self.stations[charger_id].current_a())

    async def start(self) -> None:
        self.update_meter()
        await self.meter.start()
        for station in self.stations.values():
            station.plug_in(OcppVehicle(max_current_a=16, phases=3))
            await station.start()
        self.follow()

    def allowed_load_a(self, chargers=REGULATED) -> list[float]:
        """Per grid phase: what the vehicles may draw under the profiles in force now."""
        load = [0.0, 0.0, 0.0]
        for cid in chargers:
            rotation, _ = STATIONS[cid]
            station = self.stations[cid]
            limit_a, phases = station.allowed()
            for phase in range(phases):
                load[grid_phase(rotation, phase)] += limit_a if limit_a >= 6 else 0.0
        return load

    def assert_within_limits(self) -> None:
        """House load, what the regulated chargers may draw and what the rejecting one does draw fit every phase."""
        rotation, _ = STATIONS["cp-rejects"]
        unregulated = [0.0, 0.0, 0.0]
        for phase, current in enumerate(self.stations["cp-rejects"].current_a()):
            unregulated[grid_phase(rotation, phase)] += current
        for phase, load in enumerate(self.allowed_load_a()):
            load += unregulated[phase]
            assert self.house_load_a[phase] + load <= LIMIT_A + 1e-6, f"L{phase + 1} over the limit"


@pytest_asyncio.fixture
async def ocpp_site(tmp_path):
    ocpp_port = free_port()
    world = OcppSite(ocpp_port)
    await world.start()
    config = parse_site_config(site_config(tmp_path, ocpp_port, world.meter.port))
    async with agent_beside(world, config) as agent:
        yield world, agent


@pytest.mark.slow
@pytest.mark.asyncio
async def test_ocpp_chargers_are_regulated_through_load_steps_meter_loss_and_misbehaving_peers(ocpp_site, caplog):
    world, agent = ocpp_site
    caplog.set_level(logging.INFO)
    regulator = agent.regulators["main"]
    slots = regulator.slots

    # Steady state: every charger connected, armed in two layers and charging within the limits. (Until
    # their first profile, chargers charge at their own maximum: the limits hold from the first setpoint on.)
    await cycle_until(agent, world, lambda: all(slots[cid].failsafe_confirmed and slots[cid].controllable
                                                 and world.stations[cid].allowed_a() >= 6 for cid in REGULATED),
                      check=False)
    for _ in range(3):
        await agent.cycle()
        world.assert_within_limits()
    plan = failsafe_plan(agent.config.networks[0], 10)
    status = agent.status()["networks"]["main"]["chargers"]
    for cid in REGULATED:
        assert status[cid]["failsafe"] == {"confirmed": True, "current_a": plan[cid].current_a, "timeout_s": 10}

    # The charger that rejects profiles is unavailable with the reason; the others go on
    assert not slots["cp-rejects"].available and "rejects the" in slots["cp-rejects"].problem
    assert status["cp-rejects"]["failsafe"]["confirmed"] is False
    assert "rejects the" in status["cp-rejects"]["problem"] and "rejects the" in status["cp-rejects"]["failsafe_problem"]

    # A house-load step on L1: the next cycle sends lower profiles, in force when it returns
    await cycle_until(agent, world, lambda: world.stations["cp1"].allowed_a() > 0)
    before = world.stations["cp1"].allowed_a()
    world.house_load_a = [30.0, 2.0, 3.0]
    world.update_meter()
    await agent.cycle()
    world.assert_within_limits()
    assert world.stations["cp1"].allowed_a() < before

    # Strangers, a wrong password and garbage on a live connection: logged, nothing else disturbed
    stranger = OcppStation(f"ws://127.0.0.1:{agent.context.ocpp.port}", "cp-stranger", reconnect_s=0.2)
    impostor = OcppStation(f"ws://127.0.0.1:{agent.context.ocpp.port}", "cp1", password="not-the-password!")
    await stranger.start()
    await impostor.start()
    await world.stations["cp2"]._cp._connection.send("garbage, not OCPP-J")
    await eventually(lambda: stranger.last_refusal == 404 and impostor.last_refusal == 401, 5, "refusals")
    await stranger.close()
    await impostor.close()
    for _ in range(2):
        await agent.cycle()
        world.assert_within_limits()
    assert all(slots[cid].available for cid in REGULATED)
    log_text = caplog.text
    assert "'cp-stranger' refused: unknown charge point identity" in log_text
    assert "'cp1' refused: wrong user or password" in log_text
    assert "cp2 sent a malformed frame" in log_text

    # The meter drops out: fallback power within one cycle
    await world.meter.drop_out(True, mode="close")
    await agent.cycle()
    assert regulator.last.allocation.mode == "fallback"
    power_w = sum(sum(world.stations[cid].current_a()) * 230 for cid in REGULATED)
    allowed_w = sum(world.allowed_load_a()) * 230
    assert power_w <= allowed_w <= FALLBACK_POWER_W + 1e-6
    await world.meter.drop_out(False)
    await cycle_until(agent, world, lambda: regulator.last.allocation.mode == "normal")

    events = [i["type"] for i in agent.buffer.pending(10_000).items if i["kind"] == "event"]
    assert events.count("meter_lost") == 1 and events.count("meter_restored") == 1
    assert events.count("failsafe_armed") >= 3


def _write_toml(path: Path, config: dict) -> None:
    gateway, network = config["gateway"], config["networks"][0]
    lines = ["[gateway]"] + [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in gateway.items()]
    lines += ["", "[[networks]]"] + [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}"
                                     for k, v in network.items() if k not in ("meter", "chargers")]
    lines += ["", "[networks.meter]"] + [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}"
                                         for k, v in network["meter"].items()]
    for charger in network["chargers"]:
        lines += ["", "[[networks.chargers]]"] + [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}"
                                                  for k, v in charger.items()]
    path.write_text("\n".join(lines).replace("'", '"') + "\n")


def _start_agent(config_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gateways", "run", "--config", str(config_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_killing_the_agent_lets_every_charger_fall_back_to_its_failsafe_and_a_new_agent_rearms_it(tmp_path):
    ocpp_port = free_port()
    world = OcppSite(ocpp_port)
    await world.start()
    data = site_config(tmp_path, ocpp_port, world.meter.port, poll_interval_s=0.5)
    config_path = tmp_path / "site.toml"
    _write_toml(config_path, data)
    plan = failsafe_plan(parse_site_config(data).networks[0], 10)

    def holds(cid: str, profile_id: int) -> bool:
        station = world.stations[cid]
        return any(p.id == profile_id and p.valid_at(station.now()) for p in station.profiles.profiles)

    agent = _start_agent(config_path)
    try:
        await eventually(lambda: all(holds(cid, FAILSAFE_PROFILE_ID) and holds(cid, LIVE_PROFILE_ID) for cid in REGULATED),
                         20, "armed and regulated")
        agent.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        agent.wait(timeout=10)
        # The live layers lapse at their validTo (at most failsafe_timeout_s after the last renewal).
        await eventually(lambda: not any(holds(cid, LIVE_PROFILE_ID) for cid in REGULATED), 10 + 1 + 1,
                         "every live layer lapsed")
        assert all(world.stations[cid].allowed_a() == plan[cid].current_a for cid in REGULATED)
        fell_back_s = time.monotonic() - killed_at
        assert fell_back_s <= 10 + 1  # failsafe_timeout_s + one sample interval
        for phase, load in enumerate(world.allowed_load_a()):
            assert world.house_load_a[phase] + load <= LIMIT_A
        assert sum(world.allowed_load_a()) * 230 <= FALLBACK_POWER_W

        # A new agent: every charger dials in again and is re-armed within one poll of connecting.
        received_before = {cid: len(world.stations[cid].counters.profiles_received) for cid in REGULATED}
        connects_before = {cid: world.stations[cid].counters.connects for cid in REGULATED}
        agent = _start_agent(config_path)
        await eventually(lambda: all(holds(cid, LIVE_PROFILE_ID) for cid in REGULATED), 15, "re-armed and regulated")
        for cid in REGULATED:
            counters = world.stations[cid].counters
            assert counters.connects == connects_before[cid] + 1
            failsafe_at_s = next(at for at, profile_id, _ in counters.profiles_received[received_before[cid]:]
                                 if profile_id == FAILSAFE_PROFILE_ID)
            assert failsafe_at_s - counters.connected_at_s[-1] <= 0.5 + 0.5  # one poll, plus configuring
    except AssertionError:
        agent.kill()
        print(agent.communicate(timeout=10)[0][-5000:])
        raise
    finally:
        if agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=20)
        await world.stop()
    assert "Traceback" not in output, output[-3000:]


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_config_change_keeps_the_websockets_and_re_arms_every_charger(ocpp_site, tmp_path):
    world, agent = ocpp_site
    slots = agent.regulators["main"].slots
    await cycle_until(agent, world, lambda: all(slots[cid].failsafe_confirmed for cid in REGULATED), check=False)
    connects = {cid: world.stations[cid].counters.connects for cid in REGULATED}
    received = {cid: len(world.stations[cid].counters.profiles_received) for cid in REGULATED}
    data = site_config(tmp_path, agent.context.ocpp.port, world.meter.port)
    data["networks"][0]["fallback_power_w"] = 4140  # a new failsafe plan
    await agent.apply_config(parse_site_config(data))
    new_slots = agent.regulators["main"].slots
    await cycle_until(agent, world, lambda: all(new_slots[cid].failsafe_confirmed for cid in REGULATED))
    plan = failsafe_plan(agent.config.networks[0], 10)
    for cid in REGULATED:
        counters = world.stations[cid].counters
        assert counters.connects == connects[cid]  # no charge point had to dial in again
        armed = [limit for _, profile_id, limit in counters.profiles_received[received[cid]:]
                 if profile_id == FAILSAFE_PROFILE_ID]
        assert armed and armed[-1] == plan[cid].current_a
