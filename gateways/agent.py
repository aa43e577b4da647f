"""The agent: every network of the site regulated once per poll interval, until stopped.

Each network's cycle runs on its own; an unexpected error in one is logged
with its traceback and the loop goes on (the chargers' failsafe watchdogs
cover a network whose cycles keep failing, since its setpoint renewals stop). Ticks
are scheduled on a fixed grid so cycles don't drift; a cycle that overruns
skips the ticks it missed instead of running late ones back to back.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import replace
from pathlib import Path

from gateways.buffer import TelemetryBuffer
from gateways.chargers.registry import DriverContext, make_driver
from gateways.dead_letter import DEAD_LETTER_FILE, DeadLetters
from gateways.dimming_input import DimmingInput
from gateways.network_caps import NetworkCaps
from gateways.protocol import NetworkConfig, SiteConfig
from gateways.recorder import Recorder
from gateways.regulator import CHARGER_READ_TIMEOUT_S, NetworkRegulator
from gateways.status import failsafe_status
from meters import MeterClient, load_map

log = logging.getLogger(__name__)

BUFFER_FILE = "telemetry.sqlite3"


def default_meter_timeout_s(poll_interval_s: float) -> float:
    """A meter read must end well before the next poll."""
    return min(1.0, poll_interval_s * 0.3)


def make_meter_client(network: NetworkConfig, poll_interval_s: float) -> MeterClient:
    """The Modbus reader for a network's meter (catalog model or custom map)."""
    meter = network.meter
    model = load_map(meter.map, key=meter.model) if meter.map else meter.model
    timeout_s = meter.timeout_s if meter.timeout_s is not None else default_meter_timeout_s(poll_interval_s)
    return MeterClient(model, meter.host, port=meter.port, unit_id=meter.unit_id, timeout_s=timeout_s)


class Agent:
    """Runs the regulation loop of one site."""

    def __init__(self, config: SiteConfig, *, context: DriverContext | None = None, buffer: TelemetryBuffer | None = None,
                 controller_settings=None, clock=time.monotonic, wall_clock=None):
        self.config = config
        # The drivers stamp their readings with the regulators' clock (a given context brings its own).
        self.context = context or DriverContext(config.gateway, clock=clock)
        self.buffer = buffer if buffer is not None else TelemetryBuffer(Path(config.gateway.state_dir) / BUFFER_FILE)
        self.recorder = Recorder(self.buffer)
        self.dead_letters = DeadLetters(self.buffer.path.parent / DEAD_LETTER_FILE)
        """Telemetry the server refused as malformed, kept beside the buffer (the upload fills it)."""
        self.controller_settings = controller_settings
        self.clock = clock
        self.wall_clock = wall_clock
        """The site's clock for scheduled caps (an aware `datetime`); None: the system clock."""
        self.regulators: dict[str, NetworkRegulator] = {}
        self.cycles = 0
        self.overruns = 0
        self._lock = asyncio.Lock()  # a config change never lands in the middle of a cycle
        self.started_at = time.time()

    async def start(self) -> None:
        """Open the meters and chargers of every network."""
        await self.context.prepare(self.config)
        self.regulators = {n.id: await self._regulator(n) for n in self.config.networks}
        self.recorder.event("agent_started", None, f"{len(self.regulators)} network(s)")

    async def _regulator(self, network: NetworkConfig) -> NetworkRegulator:
        poll_s = self.config.gateway.poll_interval_s
        io_timeout_s = max(0.05, poll_s * 0.3)
        drivers = {}
        # A driver's own deadline covers a whole read (KEBA: two reports 100 ms apart); the
        # regulator bounds each call as well and never waits for a slow read in the cycle.
        driver_timeout_s = max(io_timeout_s, CHARGER_READ_TIMEOUT_S)
        for charger in network.chargers:
            driver = await make_driver(charger, self.context, driver_timeout_s)
            await driver.start()
            drivers[charger.id] = driver
        # The control box is polled with the meter, with the meter's deadline.
        dimming_input = (
            DimmingInput(network.dimming, default_meter_timeout_s(poll_s)) if network.dimming is not None else None
        )
        return NetworkRegulator(
            network, self.config.gateway, make_meter_client(network, poll_s), drivers, self.recorder,
            controller_settings=self.controller_settings, io_timeout_s=io_timeout_s, clock=self.clock,
            caps=NetworkCaps(network, self.recorder, dimming_input=dimming_input, wall_clock=self.wall_clock),
        )

    async def cycle(self) -> None:
        """One cycle of every network, side by side."""
        async with self._lock:
            results = await asyncio.gather(*(r.cycle() for r in self.regulators.values()), return_exceptions=True)
        for network_id, result in zip(self.regulators, results):
            if isinstance(result, BaseException):
                log.error("network %s: cycle failed", network_id, exc_info=result)
        self.cycles += 1

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Cycle on a fixed grid of poll intervals until `stop` is set."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        interval_s = self.config.gateway.poll_interval_s
        next_tick = loop.time()
        while not stop.is_set():
            await self.cycle()
            next_tick += interval_s
            now = loop.time()
            if now > next_tick:
                missed = math.ceil((now - next_tick) / interval_s)
                self.overruns += 1
                next_tick += missed * interval_s
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, next_tick - now))
            except TimeoutError:
                pass

    async def apply_config(self, config: SiteConfig) -> None:
        """Switch to a new config without a restart; the new regulators re-arm every failsafe.

        A config that differs only in the gateway's name (an operator renamed it)
        is taken as it is: regulation goes on undisturbed. Each network keeps
        its record of the caps in force, so the record shows a cap that goes
        on across the change once, and one that went with it as ended.
        """
        if replace(config, gateway=replace(config.gateway, name=self.config.gateway.name)) == self.config:
            self.config = config
            return
        async with self._lock:
            previous_caps = {network_id: regulator.caps for network_id, regulator in self.regulators.items()}
            await self.close_regulators()
            await self.context.close(reconfiguring=True)
            self.config = config
            self.context.gateway = config.gateway
            await self.start()
            for network_id, caps in previous_caps.items():
                if network_id in self.regulators:
                    self.regulators[network_id].caps.take_record_from(caps)
                else:
                    caps.end_all()
        self.recorder.event("config_applied", None, f"{len(config.networks)} network(s)")

    async def close_regulators(self) -> None:
        """Close every network's connections."""
        for regulator in self.regulators.values():
            await regulator.close()
        self.regulators = {}

    async def close(self) -> None:
        """Close connections, shared sockets and the buffer."""
        await self.close_regulators()
        await self.context.close()
        self.buffer.close()

    def status(self) -> dict:
        """Live state for the status page: per network mode, grid, and each charger's setpoint and reason."""
        networks = {}
        for network_id, regulator in self.regulators.items():
            last = regulator.last
            networks[network_id] = {
                "mode": last.allocation.mode if last else None,
                "meter_available": regulator.meter_watch.available,
                "grid_current_a": list(last.grid.current_a) if last and last.grid else None,
                "headroom_a": list(last.allocation.headroom_a) if last and last.allocation.headroom_a else None,
                # What an installer checks after wiring a control box: the signal and the caps holding now.
                "dimming": None if regulator.caps.dimming_watch is None else {
                    "dimmed": regulator.caps.dimming_watch.dimmed, "cause": regulator.caps.dimming_watch.cause,
                },
                "power_caps": {source: round(cap.limit_w) for source, cap in regulator.caps.ledger.in_force.items()},
                "chargers": {
                    charger_id: {
                        "available": slot.available,
                        "setpoint_a": last.allocation.setpoints_a.get(charger_id) if last else None,
                        "reason": last.allocation.reasons.get(charger_id) if last else None,
                        "current_a": list(slot.reading.current_a) if slot.reading and slot.available else None,
                        **failsafe_status(slot),
                        "problem": None if slot.available else slot.problem,
                        "failsafe_problem": slot.failsafe_problem,
                    }
                    for charger_id, slot in regulator.slots.items()
                },
            }
        return {
            "gateway": self.config.gateway.id,
            "cycles": self.cycles,
            "overruns": self.overruns,
            "buffered_items": len(self.buffer),
            "telemetry_rejected_items": self.dead_letters.items,
            "uptime_s": round(time.time() - self.started_at, 1),
            "networks": networks,
        }
