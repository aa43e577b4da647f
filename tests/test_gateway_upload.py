"""The agent's telemetry upload against the real server over HTTP (pytest-django's live server, PostgreSQL)."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from fleet.models import Gateway, TelemetryEvent, TelemetrySample
from fleet.services.gateway_tokens import gateway_issue_token
from gateways.buffer import TelemetryBuffer
from gateways.dead_letter import DEAD_LETTER_FILE, DeadLetters
from gateways.recorder import utc_timestamp
from gateways.status import prometheus_text
from gateways.sync import ConfigSync, ServerLink, TelemetryUpload
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


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_renaming_the_gateway_while_its_agent_uploads_refuses_and_loses_nothing(live_server, tmp_path):
    tenant = await sync_to_async(make_tenant)("rename")
    token = await sync_to_async(gateway_issue_token)(tenant.gateway)
    link = ServerLink(live_server.url, token)
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3")
    try:
        config, problem = await ConfigSync(link, tmp_path, {"state_dir": str(tmp_path)}).fetch()
        assert problem is None and config.gateway.id == str(tenant.gateway.pk) and config.gateway.name == "gw-rename"
        upload = TelemetryUpload(link, buffer, config.gateway.id, batch_items=2)
        for round_ in range(3):
            for _ in range(2):
                buffer.append("sample", sample_payload(tenant.network.pk))
            assert await upload.send_once() == 2
            await sync_to_async(Gateway.objects.filter(pk=tenant.gateway.pk).update)(name=f"renamed-{round_}")
        renamed, _ = await ConfigSync(link, tmp_path, {"state_dir": str(tmp_path)}).fetch()
    finally:
        await link.close()
    seqs = await sync_to_async(lambda: sorted(TelemetrySample.objects.values_list("seq", flat=True)))()
    await sync_to_async(connections.close_all)()
    assert seqs == list(range(1, 7)) and len(buffer) == 0
    assert renamed.gateway.id == config.gateway.id and renamed.gateway.name == "renamed-2"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_batch_refused_as_malformed_is_put_aside_and_the_samples_after_it_arrive(live_server, tmp_path):
    tenant = await sync_to_async(make_tenant)("deadletter")
    token = await sync_to_async(gateway_issue_token)(tenant.gateway)
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3")
    for _ in range(5):
        buffer.append("sample", sample_payload(tenant.network.pk))
    # A sample the server must refuse: its clock says year 9999 (as a gateway with a broken clock would send).
    bad_seq = buffer.append("sample", {**sample_payload(tenant.network.pk), "ts": "9999-12-31T23:00:00Z"})
    for _ in range(6):
        buffer.append("sample", sample_payload(tenant.network.pk))
    link = ServerLink(live_server.url, token)
    upload = TelemetryUpload(link, buffer, str(tenant.gateway.pk), batch_items=5)
    try:
        for _ in range(20):
            if len(buffer) == 0:
                break
            await upload.send_once()
        await upload.send_once()  # the telemetry_rejected event recorded on the way
    finally:
        await link.close()

    def on_server():
        gateway = Gateway.objects.get(pk=tenant.gateway.pk)
        return (sorted(TelemetrySample.objects.values_list("seq", flat=True)), gateway.acked_seq,
                list(TelemetryEvent.objects.values_list("type", "detail")))

    seqs, acked, events = await sync_to_async(on_server)()
    await sync_to_async(connections.close_all)()
    assert seqs == [seq for seq in range(1, 13) if seq != bad_seq] and acked == 13 and len(buffer) == 0
    [(event_type, detail)] = events
    assert event_type == "telemetry_rejected" and f"#{bad_seq}" in detail and "items[0].ts" in detail
    [line] = (tmp_path / DEAD_LETTER_FILE).read_text().splitlines()
    kept = json.loads(line)
    assert kept["status"] == 400 and [item["seq"] for item in kept["items"]] == [bad_seq]
    assert DeadLetters(tmp_path / DEAD_LETTER_FILE).items == 1 == upload.dead_letters.items
    assert "fuseguard_telemetry_rejected_items_total 1" in prometheus_text(
        {"cycles": 0, "overruns": 0, "buffered_items": 0, "telemetry_rejected_items": upload.dead_letters.items,
         "networks": {}})
