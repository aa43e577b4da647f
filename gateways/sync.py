"""Talking to the fleet server: fetch the site config, send the buffered telemetry.

The server is optional for regulation. The last config that validated is kept
in `state_dir`, so a gateway that restarts while the server is unreachable
regulates with it; telemetry waits in the on-disk buffer and is sent oldest
first when the server answers again. A failure is logged when it starts and
when it ends, not on every retry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

import httpx

from gateways.buffer import TelemetryBuffer
from gateways.dead_letter import DEAD_LETTER_FILE, DeadLetters
from gateways.protocol import ConfigError, SiteConfig, parse_site_config
from gateways.protocol.telemetry import MAX_BATCH_ITEMS
from gateways.recorder import Recorder

log = logging.getLogger(__name__)

AGENT_VERSION = "0.1.0"
CONFIG_FILE = "site-config.json"

MALFORMED_STATUS = (400, 422)
"""Answers that mean "this batch is malformed, nothing stored": resending it can never succeed.

Other 4xx are not about the batch: 401/403 a token problem, 413 too large (the
batch is split), 429 throttled, 404/405/408/409 a wrong URL or a proxy; the
batch waits for those to pass instead of being put aside.
"""


class ServerLink:
    """HTTP to the fleet server with the gateway's token; remembers whether the server was reachable."""

    def __init__(self, base_url: str, token: str, *, timeout_s: float = 10.0, transport: httpx.AsyncBaseTransport | None = None):
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/api/gateway/v1/",
            headers={"Authorization": f"Bearer {token}", "X-FuseGuard-Version": AGENT_VERSION},
            timeout=timeout_s,
            transport=transport,
        )
        self.reachable = True

    def note(self, ok: bool, problem: str = "") -> None:
        """Log the edges of reachability only."""
        if ok and not self.reachable:
            log.info("fleet server reachable again")
        elif not ok and self.reachable:
            log.warning("fleet server unreachable: %s (regulating on; telemetry is buffered)", problem)
        self.reachable = ok

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()


class ConfigSync:
    """Fetches the config with its ETag; validates it; keeps the last good one on disk."""

    def __init__(self, link: ServerLink, state_dir: Path, local_overrides: dict):
        self.link = link
        self.path = Path(state_dir) / CONFIG_FILE
        self.local_overrides = local_overrides
        self.etag: str | None = None

    def _parse(self, data: dict) -> SiteConfig:
        config = parse_site_config(data)
        return replace(config, gateway=replace(config.gateway, **self.local_overrides))

    def last_good(self) -> SiteConfig | None:
        """The config saved after the last successful fetch, if any."""
        try:
            saved = json.loads(self.path.read_text())
            config = self._parse(saved["config"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, ConfigError) as problem:
            log.error("ignoring the saved config %s: %s", self.path, problem)
            return None
        self.etag = saved.get("etag")
        return config

    def _save(self, data: dict, etag: str | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"etag": etag, "config": data}))
        os.replace(temporary, self.path)  # atomic: a power cut leaves the old or the new file, never half of one

    async def fetch(self) -> tuple[SiteConfig | None, str | None]:
        """A new valid config, or (None, why) when unchanged, unreachable or invalid."""
        headers = {"If-None-Match": self.etag} if self.etag else {}
        try:
            response = await self.link.client.get("config", headers=headers)
        except httpx.HTTPError as problem:
            self.link.note(False, f"{type(problem).__name__}: {problem}")
            return None, "unreachable"
        self.link.note(response.status_code < 500, f"HTTP {response.status_code}")
        if response.status_code == 304:
            return None, None
        if response.status_code != 200:
            return None, f"HTTP {response.status_code}: {response.text[:200]}"
        try:
            data = response.json()
            config = self._parse(data)
        except (ValueError, ConfigError) as problem:
            return None, f"rejected: {problem}"
        self.etag = response.headers.get("ETag")
        self._save(data, self.etag)
        return config, None


REFUSAL_REPORT_INTERVAL_S = 600.0
"""While items keep being refused, one `telemetry_rejected` event per this interval says how many."""


class TelemetryUpload:
    """Sends the buffer in order, in batches, and drops what the server acknowledged.

    A batch the server refuses as malformed is narrowed down (to the items
    before the one the server names, or by halves) until a single item is
    refused; that item goes to the dead-letter file, its seq is declared a gap,
    a `telemetry_rejected` event says so (one per 10 minutes at most while
    refusals go on, with their count), and the upload goes on. One bad item
    never stops the telemetry behind it.
    """

    def __init__(self, link: ServerLink, buffer: TelemetryBuffer, gateway_id: str, batch_items: int = MAX_BATCH_ITEMS,
                 dead_letters: DeadLetters | None = None, recorder: Recorder | None = None):
        self.link = link
        self.buffer = buffer
        self.gateway_id = gateway_id
        self.batch_items = batch_items
        self.dead_letters = dead_letters or DeadLetters(buffer.path.parent / DEAD_LETTER_FILE)
        self.recorder = recorder or Recorder(buffer)
        self.narrowed_items: int | None = None
        """While a refused batch is being narrowed down: the size of the next batch."""
        self.sent = 0
        self._refused_unreported = 0
        self._refused_reported_s: float | None = None

    async def send_once(self) -> int:
        """Send one batch; returns how many items left the buffer (acknowledged or put aside), 0 on failure."""
        batch = self.buffer.pending(self.narrowed_items or self.batch_items)
        if not batch.items:
            return 0
        body = {"gateway": self.gateway_id, "items": batch.items, "gaps": [list(gap) for gap in batch.gaps]}
        try:
            response = await self.link.client.post("telemetry", json=body)
        except httpx.HTTPError as problem:
            self.link.note(False, f"{type(problem).__name__}: {problem}")
            return 0
        self.link.note(response.status_code < 500, f"HTTP {response.status_code}")
        if response.status_code == 413:
            self.batch_items = max(1, self.batch_items // 2)
            return 0
        if response.status_code in MALFORMED_STATUS:
            return self._refused(batch.items, response)
        if response.status_code != 200:
            log.error("telemetry batch refused (HTTP %s): %s", response.status_code, response.text[:300])
            return 0
        acked = int(response.json()["acked_seq"])
        if acked > self.buffer.highest_issued_seq():
            # The server holds numbers this buffer never issued: the state folder was lost and the
            # numbering started again. Continue above the server's mark so nothing is taken for a resend.
            log.warning("server holds telemetry up to #%d, this gateway's numbering is at #%d: renumbering the buffer",
                        acked, self.buffer.highest_issued_seq())
            self.buffer.renumber_after(acked)
            return 0
        removed = self.buffer.acknowledge(acked)
        self.sent += removed
        return removed

    def _refused(self, items: list[dict], response: httpx.Response) -> int:
        """Narrow a refused batch down; put a refused single item aside. Returns the items put aside."""
        answer = response.text[:1000]
        if len(items) > 1:
            index = _refused_item(response)
            if index is not None and 0 <= index < len(items):
                self.narrowed_items = max(1, index)  # the items before the named one passed; else the named one alone
            else:
                self.narrowed_items = max(1, len(items) // 2)
            return 0
        item = items[0]
        self.dead_letters.add(items, response.status_code, answer)
        removed = self.buffer.discard(item["seq"], item["seq"])
        self.narrowed_items = None
        self._refused_unreported += 1
        now_s = time.monotonic()
        if self._refused_reported_s is None or now_s - self._refused_reported_s >= REFUSAL_REPORT_INTERVAL_S:
            # Once per refusal, or once per interval while refusals go on (a deleted network's backlog...).
            count, self._refused_unreported, self._refused_reported_s = self._refused_unreported, 0, now_s
            log.error("telemetry item #%s refused by the server (HTTP %s), kept in %s: %s",
                      item["seq"], response.status_code, self.dead_letters.path, answer[:300])
            self.recorder.event(
                "telemetry_rejected", None,
                f"{count} item(s) refused, the last #{item['seq']} ({item.get('kind')}), HTTP {response.status_code}: "
                f"{answer}; kept on the gateway in {self.dead_letters.path.name}",
            )
        return removed

    async def run(self, interval_s: float = 2.0, max_backoff_s: float = 60.0, stop: asyncio.Event | None = None) -> None:
        """Send until `stop` is set: at once while there is a backlog, with growing pauses while the server fails.

        A batch in flight when `stop` is set is finished first (within the HTTP
        timeout), so what the server has acknowledged also leaves the buffer.
        """
        stop = stop or asyncio.Event()
        pause_s = interval_s
        while not stop.is_set():
            sent = await self.send_once()
            if (sent or self.narrowed_items) and len(self.buffer) > 0:
                continue  # catching up after an outage, or narrowing down a refused batch
            pause_s = interval_s if self.link.reachable else min(max_backoff_s, pause_s * 2)
            try:
                await asyncio.wait_for(stop.wait(), timeout=pause_s)
            except TimeoutError:
                pass


def _refused_item(response: httpx.Response) -> int | None:
    """The index of the item the server named in its refusal, if it named one."""
    try:
        index = response.json().get("item")
    except (ValueError, AttributeError):
        return None
    return index if isinstance(index, int) and not isinstance(index, bool) else None
