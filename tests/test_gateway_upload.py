"""The agent's telemetry upload against the real server over HTTP (pytest-django's live server)."""

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from fleet.models import TelemetrySample
from fleet.services.gateway_tokens import gateway_issue_token
from gateways.buffer import TelemetryBuffer
from gateways.recorder import utc_timestamp
from gateways.sync import ServerLink, TelemetryUpload
from tests.fleet.conftest import make_tenant


def sample_payload(network_id: int) -> dict:
    return {"ts": utc_timestamp(), "network": str(network_id), "mode": "normal",
            "grid_current_a": [1.0, 2.0, 3.0], "headroom_a": [20.0, 20.0, 20.0], "chargers": {}}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_buffer_is_sent_in_order_and_emptied_as_the_server_acknowledges(live_server, tmp_path):
    tenant = await sync_to_async(make_tenant)("upload")
    token = await sync_to_async(gateway_issue_token)(tenant.gateway)
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3")
    for _ in range(7):
        buffer.append("sample", sample_payload(tenant.network.pk))
    link = ServerLink(live_server.url, token)
    upload = TelemetryUpload(link, buffer, tenant.gateway.name, batch_items=3)
    try:
        sent = [await upload.send_once() for _ in range(4)]
    finally:
        await link.close()
    assert sent == [3, 3, 1, 0] and len(buffer) == 0
    seqs = await sync_to_async(lambda: sorted(TelemetrySample.objects.values_list("seq", flat=True)))()
    await sync_to_async(connections.close_all)()  # the helper thread's connection, before the database is dropped
    assert seqs == list(range(1, 8))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_gateway_that_lost_its_state_continues_above_the_servers_mark(live_server, tmp_path):
    tenant = await sync_to_async(make_tenant)("amnesia")
    token = await sync_to_async(gateway_issue_token)(tenant.gateway)
    link = ServerLink(live_server.url, token)
    try:
        earlier_life = TelemetryBuffer(tmp_path / "old.sqlite3")
        for _ in range(5):
            earlier_life.append("sample", sample_payload(tenant.network.pk))
        await TelemetryUpload(link, earlier_life, tenant.gateway.name).send_once()

        fresh = TelemetryBuffer(tmp_path / "new.sqlite3")  # the state folder was wiped
        for _ in range(3):
            fresh.append("sample", sample_payload(tenant.network.pk))
        upload = TelemetryUpload(link, fresh, tenant.gateway.name)
        assert await upload.send_once() == 0  # the server's mark is ahead: renumber, nothing dropped
        assert await upload.send_once() == 3
    finally:
        await link.close()
    seqs = await sync_to_async(lambda: sorted(TelemetrySample.objects.values_list("seq", flat=True)))()
    await sync_to_async(connections.close_all)()
    assert seqs == list(range(1, 9))
