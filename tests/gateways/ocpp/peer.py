"""A bare OCPP 1.6J charge point made from the `ocpp` package's ChargePoint, scripted by each test.

Independent of `gateways.simulators`: it answers what the central system
asks from a plain dict of settings, records every request and keeps no
physics, so protocol tests check the agent against the package's own
schemas and routing rather than against our simulator.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib

from ocpp.routing import on
from ocpp.v16 import ChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import connect


class Peer(ChargePoint):
    """A scripted charge point: answers from `settings`, records requests as (action, payload)."""

    def __init__(self, identity: str, connection, *, max_stack_level: str = "3", rate_units: str = "Current",
                 profile_status: str = "Accepted", refuse: tuple[str, ...] = ()):
        super().__init__(identity, connection, response_timeout=5)
        self.settings = {"ChargeProfileMaxStackLevel": max_stack_level,
                         "ChargingScheduleAllowedChargingRateUnit": rate_units}
        self.profile_status = profile_status
        self.refuse = refuse
        self.requests: list[tuple[str, dict]] = []
        self.task: asyncio.Task | None = None

    def sent(self, action: str) -> list[dict]:
        """The payloads of every request of one action, in order."""
        return [payload for name, payload in self.requests if name == action]

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str):
        self.requests.append(("ChangeConfiguration", {"key": key, "value": value}))
        return call_result.ChangeConfiguration(status="Rejected" if key in self.refuse else "Accepted")

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list | None = None):
        self.requests.append(("GetConfiguration", {"key": key}))
        return call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": True, "value": self.settings[k]} for k in key if k in self.settings],
            unknown_key=[k for k in key if k not in self.settings] or None,
        )

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **criteria):
        self.requests.append(("ClearChargingProfile", criteria))
        return call_result.ClearChargingProfile(status="Unknown")

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict):
        self.requests.append(("SetChargingProfile", {"connector_id": connector_id, **cs_charging_profiles}))
        return call_result.SetChargingProfile(status=self.profile_status)

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, connector_id: int | None = None):
        self.requests.append(("TriggerMessage", {"requested_message": requested_message}))
        return call_result.TriggerMessage(status="NotImplemented")


def basic(identity: str, password: str) -> dict:
    """An HTTP Basic Authorization header."""
    return {"Authorization": "Basic " + base64.b64encode(f"{identity}:{password}".encode()).decode()}


@contextlib.asynccontextmanager
async def connected_peer(url: str, identity: str, *, headers: dict | None = None, ssl=None, **peer_options):
    """A Peer on an open websocket (wss:// with `ssl`), served in the background while the block runs."""
    async with connect(f"{url}/{identity}", subprotocols=["ocpp1.6"], additional_headers=headers or {},
                       open_timeout=5, ssl=ssl) as ws:
        peer = Peer(identity, ws, **peer_options)
        peer.task = asyncio.create_task(peer.start())
        try:
            yield peer
        finally:
            peer.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await peer.task
