"""The agent's status over HTTP: `/status` as JSON, `/metrics` in Prometheus' text format.

Read-only and tiny, so it runs on the asyncio loop with the standard library;
it answers GET only and closes every connection after one answer.
"""

from __future__ import annotations

import asyncio
import json
import logging

log = logging.getLogger(__name__)


def failsafe_status(slot) -> dict:
    """A charger's own failsafe as the status page shows it: confirmed by read-back or not, and with what.

    `failsafe_confirmed` is what the station reported back after arming (None
    until then); `failsafe_armed` is kept for readers of the older page.
    """
    confirmed = slot.failsafe_confirmed
    return {
        "failsafe_armed": confirmed is not None,
        "failsafe": {
            "confirmed": confirmed is not None,
            "current_a": confirmed.current_a if confirmed else None,
            "timeout_s": confirmed.timeout_s if confirmed else None,
        },
    }

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 400: "Bad Request"}


def prometheus_text(status: dict) -> str:
    """Render the status as Prometheus metrics."""
    lines = [
        "# HELP fuseguard_cycles_total Regulation cycles run since start.",
        "# TYPE fuseguard_cycles_total counter",
        f"fuseguard_cycles_total {status['cycles']}",
        "# HELP fuseguard_cycle_overruns_total Cycles that took longer than the poll interval.",
        "# TYPE fuseguard_cycle_overruns_total counter",
        f"fuseguard_cycle_overruns_total {status['overruns']}",
        "# HELP fuseguard_buffered_items Telemetry items waiting to be sent to the server.",
        "# TYPE fuseguard_buffered_items gauge",
        f"fuseguard_buffered_items {status['buffered_items']}",
        "# HELP fuseguard_telemetry_rejected_items_total Telemetry items the server refused as malformed, kept in the state folder.",
        "# TYPE fuseguard_telemetry_rejected_items_total counter",
        f"fuseguard_telemetry_rejected_items_total {status.get('telemetry_rejected_items', 0)}",
        "# HELP fuseguard_fallback 1 while the network regulates without its meter.",
        "# TYPE fuseguard_fallback gauge",
        "# HELP fuseguard_power_cap_watts External caps holding the chargers' total power now (dimming, operator, schedule).",
        "# TYPE fuseguard_power_cap_watts gauge",
        "# HELP fuseguard_grid_current_amperes Grid current per phase at the house connection.",
        "# TYPE fuseguard_grid_current_amperes gauge",
        "# HELP fuseguard_charger_setpoint_amperes Current each charger is allowed.",
        "# TYPE fuseguard_charger_setpoint_amperes gauge",
        "# HELP fuseguard_charger_available 1 while the charger answers.",
        "# TYPE fuseguard_charger_available gauge",
        "# HELP fuseguard_charger_failsafe_confirmed 1 once the charger has read back the failsafe it was given.",
        "# TYPE fuseguard_charger_failsafe_confirmed gauge",
        "# HELP fuseguard_charger_failsafe_current_amperes Current the charger falls back to without the gateway.",
        "# TYPE fuseguard_charger_failsafe_current_amperes gauge",
        "# HELP fuseguard_charger_failsafe_timeout_seconds How long the charger waits for the gateway before falling back.",
        "# TYPE fuseguard_charger_failsafe_timeout_seconds gauge",
    ]
    for network_id, network in status["networks"].items():
        net = _label(network_id)
        lines.append(f'fuseguard_fallback{{network="{net}"}} {1 if network["mode"] == "fallback" else 0}')
        for source, power_w in (network.get("power_caps") or {}).items():
            lines.append(f'fuseguard_power_cap_watts{{network="{net}",source="{_label(source)}"}} {power_w}')
        for phase, value in zip(("L1", "L2", "L3"), network["grid_current_a"] or ()):
            lines.append(f'fuseguard_grid_current_amperes{{network="{net}",phase="{phase}"}} {value}')
        for charger_id, charger in network["chargers"].items():
            labels = f'network="{net}",charger="{_label(charger_id)}"'
            if charger["setpoint_a"] is not None:
                lines.append(f"fuseguard_charger_setpoint_amperes{{{labels}}} {charger['setpoint_a']}")
            lines.append(f"fuseguard_charger_available{{{labels}}} {1 if charger['available'] else 0}")
            failsafe = charger.get("failsafe") or {}
            lines.append(f"fuseguard_charger_failsafe_confirmed{{{labels}}} {1 if failsafe.get('confirmed') else 0}")
            if failsafe.get("confirmed"):
                lines.append(f"fuseguard_charger_failsafe_current_amperes{{{labels}}} {failsafe['current_a']}")
                lines.append(f"fuseguard_charger_failsafe_timeout_seconds{{{labels}}} {failsafe['timeout_s']}")
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class StatusServer:
    """Serves `status_source()` on a TCP port."""

    def __init__(self, status_source, host: str = "127.0.0.1", port: int = 0):
        self.status_source = status_source
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen; with port 0 the chosen port is in `self.port`."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5):
                request_line = await reader.readline()
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
            parts = request_line.decode("latin-1").split()
            if len(parts) < 2:
                code, body, kind = 400, "bad request\n", "text/plain"
            elif parts[0] != "GET":
                code, body, kind = 405, "only GET\n", "text/plain"
            elif parts[1] in ("/status", "/"):
                code, body, kind = 200, json.dumps(self.status_source(), indent=2) + "\n", "application/json"
            elif parts[1] == "/metrics":
                code, body, kind = 200, prometheus_text(self.status_source()), "text/plain; version=0.0.4"
            else:
                code, body, kind = 404, "try /status or /metrics\n", "text/plain"
            payload = body.encode()
            writer.write(
                f"HTTP/1.1 {code} {_REASONS[code]}\r\nContent-Type: {kind}\r\nContent-Length: {len(payload)}\r\n"
                "Connection: close\r\n\r\n".encode() + payload
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        except Exception:  # noqa: BLE001 - a status page bug must not disturb regulation
            log.exception("status page failed")
        finally:
            writer.close()
