"""One simulated gateway's conversation with the server: the agent's requests, on a client shared by many.

The requests are those of `gateways.sync`: `GET config` with `If-None-Match`
and the agent's headers, `POST telemetry` with the oldest unacknowledged items
(at most `MAX_BATCH_ITEMS`), sent again after an error or a timeout until the
server's `acked_seq` covers them. A gateway that is behind sends batch after
batch at once, as the agent catches up after an outage; one that fails (no
answer, or a 5xx) waits twice as long each time, up to a minute, as
`TelemetryUpload.run` does, so a struggling server is not buried in resends.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from gateways.fleetsim.gateway import SimulatedGateway
from gateways.fleetsim.stats import RunStats, UploadRecord
from gateways.protocol import ConfigError, parse_site_config
from gateways.sync import AGENT_VERSION

try:  # the server extra brings orjson; a gateway box without it encodes with the stdlib
    from orjson import dumps as _orjson_dumps
except ImportError:  # pragma: no cover
    _orjson_dumps = None

VERSION = f"{AGENT_VERSION}+fleetsim"
"""Sent as the agent's version, so the server's records tell simulated gateways apart."""


def encode(body: dict) -> bytes:
    """The batch as JSON bytes (orjson where installed: encoding is most of the simulator's CPU)."""
    if _orjson_dumps is not None:
        return _orjson_dumps(body)
    return json.dumps(body, separators=(",", ":")).encode()


MAX_BACKOFF_S = 60.0
"""The agent's longest pause between uploads while the server fails (`TelemetryUpload.run`)."""


def server_failed(status: str) -> bool:
    """Whether an upload's outcome means the server is unreachable or failing (the agent's `reachable = False`)."""
    return status in ("timeout", "error") or status.startswith("5")


def next_pause_s(pause_s: float, failed: bool, interval_s: float, max_backoff_s: float = MAX_BACKOFF_S) -> float:
    """The pause before the next upload: the interval, doubled after each failure up to `max_backoff_s`."""
    return min(max_backoff_s, max(pause_s, interval_s) * 2) if failed else interval_s


@dataclass(frozen=True)
class Schedule:
    """When a simulated gateway talks to the server (seconds)."""

    upload_interval_s: float = 15.0
    config_interval_s: float = 30.0
    first_upload_delay_s: float = 0.0
    """Where in the upload interval this gateway uploads, so the fleet's uploads spread."""


class GatewaySession:
    """Runs one simulated gateway against the server until its stop time, then drains what is left."""

    def __init__(self, gateway: SimulatedGateway, client: httpx.AsyncClient, stats: RunStats, schedule: Schedule,
                 clock: Callable[[], float] = time.time, slots: asyncio.Semaphore | None = None):
        self.gateway = gateway
        self.client = client
        # Requests wait here, not in httpx's pool: its queue costs CPU per waiting request on every change, so a
        # thousand gateways starting together spun the simulator and timed out every first config fetch.
        self.slots = slots or asyncio.Semaphore(1_000_000)
        self.stats = stats
        self.schedule = schedule
        self.clock = clock
        self.headers = {"Authorization": f"Bearer {gateway.token}", "X-FuseGuard-Version": VERSION}

    async def fetch_config(self) -> bool:
        """Fetch the config with the ETag held; True when the gateway has a config (new or unchanged)."""
        headers = dict(self.headers)
        if self.gateway.etag:
            headers["If-None-Match"] = self.gateway.etag
        try:
            async with self.slots:
                response = await self.client.get("config", headers=headers)
        except httpx.TimeoutException:
            self.stats.config_statuses["timeout"] += 1
            return False
        except httpx.HTTPError:
            self.stats.config_statuses["error"] += 1
            return False
        self.stats.config_statuses[str(response.status_code)] += 1
        if response.status_code == 304:
            return True
        if response.status_code != 200:
            return False
        try:
            config = parse_site_config(response.json())
        except (ValueError, ConfigError):
            self.stats.config_statuses["rejected"] += 1
            return False
        self.gateway.apply_config(config, response.headers.get("ETag"))
        return True

    async def upload_once(self) -> UploadRecord | None:
        """Send the oldest unacknowledged batch once; None when there is nothing to send."""
        items = self.gateway.batch()
        if not items:
            return None
        content = encode(self.gateway.body(items))
        headers = {**self.headers, "Content-Type": "application/json"}
        async with self.slots:
            began = time.perf_counter()  # the server's time, not the wait for one of the simulator's connections
            try:
                response = await self.client.post("telemetry", content=content, headers=headers)
            except httpx.TimeoutException:
                status, acked = "timeout", 0
            except httpx.HTTPError:
                status, acked = "error", 0
            else:
                status = str(response.status_code)
                acked = self.gateway.acknowledge(int(response.json()["acked_seq"])) if response.status_code == 200 else 0
            latency_s = time.perf_counter() - began
        record = UploadRecord(latency_s, status, len(items), acked)
        self.stats.record_upload(record)
        return record

    async def send_backlog(self, deadline_s: float | None = None) -> bool:
        """Send batch after batch while each succeeds and items are left (catching up), until `deadline_s`.

        Returns False when the server failed (no answer or a 5xx), for the caller to back off.
        """
        while self.gateway.unacked and (deadline_s is None or self.clock() < deadline_s):
            record = await self.upload_once()
            if record is None:
                return True
            if record.status != "200" or record.items_acked == 0:
                return not server_failed(record.status)
        return True

    async def run(self, stop_s: float) -> None:
        """Fetch the config, then record and upload on the schedule until `stop_s` (recording up to it)."""
        while not await self.fetch_config():
            if self.clock() + self.schedule.config_interval_s >= stop_s:
                return
            await self._sleep_until(self.clock() + min(self.schedule.config_interval_s, 5.0))
        now = self.clock()
        self.gateway.start_recording(now)
        next_config_s = now + self.schedule.config_interval_s
        next_upload_s = now + self.schedule.first_upload_delay_s
        pause_s = self.schedule.upload_interval_s
        while next_upload_s < stop_s:
            await self._sleep_until(next_upload_s)
            self.gateway.record_until(self.clock())
            answered = await self.send_backlog(deadline_s=stop_s)
            if self.clock() >= next_config_s:
                await self.fetch_config()
                next_config_s += self.schedule.config_interval_s
            pause_s = next_pause_s(pause_s, not answered, self.schedule.upload_interval_s)
            next_upload_s += pause_s
        await self._sleep_until(stop_s)
        self.gateway.stop_recording(stop_s)

    async def drain(self, deadline_s: float) -> None:
        """After the run: send what is left, retrying once a second, until acknowledged or `deadline_s`."""
        while self.gateway.unacked and self.clock() < deadline_s:
            await self.send_backlog(deadline_s)
            if self.gateway.unacked:
                await self._sleep_until(min(deadline_s, self.clock() + 1.0))

    async def _sleep_until(self, at_s: float) -> None:
        delay_s = at_s - self.clock()
        if delay_s > 0:
            await asyncio.sleep(delay_s)


def spread_schedules(count: int, *, upload_interval_s: float, config_interval_s: float, seed: int) -> list[Schedule]:
    """One schedule per gateway, first uploads spread at random over one upload interval."""
    rng = random.Random(seed)
    return [Schedule(upload_interval_s, config_interval_s, rng.uniform(0, upload_interval_s)) for _ in range(count)]
