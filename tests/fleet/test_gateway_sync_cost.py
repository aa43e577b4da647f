"""What one sync request costs the database, pinned so it cannot creep back.

A fleet of ten thousand gateways sends a steady upload every 15 s and polls
its config in between: the server's cost is per request, so each statement
here is paid tens of thousands of times a minute. The figures are exact: a
new statement on these paths must be a decision, made by changing this file.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fleet.models import Gateway
from fleet.sync.last_seen import last_seen_refresh_s
from tests.fleet.test_gateway_sync import CONFIG_URL, gateway_a, post, sample  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

# auth, the site's network ids, BEGIN, the gateway's row locked, 3 x "anything above the mark?", one upsert each for
# network, charger and meter states, the gateway's mark, COMMIT (a savepoint pair in tests). The samples' COPY goes
# through psycopg's own cursor, which the capture does not see: 13 round trips in all.
STEADY_UPLOAD_STATEMENTS = 12
# auth and the site's config (networks, chargers, power caps, recurring caps): no write.
CONFIG_POLL_STATEMENTS = 5


# Yesterday noon: every sample of these tests falls on one day (one partition), whenever the tests run.
_NOON = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def samples(tenant, seqs: range) -> list[dict]:
    """One-second samples numbered `seqs`."""
    return [sample(seq, tenant, ts=(_NOON + timedelta(seconds=seq)).isoformat()) for seq in seqs]


def steady_batch(tenant, first_seq: int) -> list[dict]:
    """15 one-second samples, as an agent with a 1 s poll sends every 15 s."""
    return samples(tenant, range(first_seq, first_seq + 15))


def statements(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code in (200, 304), response.content
    return [query["sql"] for query in captured.captured_queries]


def test_a_steady_upload_costs_a_fixed_number_of_statements_whatever_its_size(
    client, gateway_a, django_capture_on_commit_callbacks  # noqa: F811
):
    tenant = gateway_a
    # From here on the states exist, and the process remembers the day's partition (once its transaction commits).
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, tenant, steady_batch(tenant, 1)).status_code == 200
    steady = statements(lambda: post(client, tenant, steady_batch(tenant, 16)))
    assert len(steady) == STEADY_UPLOAD_STATEMENTS, "\n".join(steady)
    bigger = statements(lambda: post(client, tenant, samples(tenant, range(31, 331))))
    assert len(bigger) == len(steady), "\n".join(bigger)
    assert Gateway.objects.get(pk=tenant.gateway.pk).acked_seq == 330


def test_a_304_config_poll_reads_the_config_and_writes_nothing(client, gateway_a):  # noqa: F811
    etag = client.get(CONFIG_URL, HTTP_X_FUSEGUARD_VERSION="1.2.0")["ETag"]
    seen = Gateway.objects.get(pk=gateway_a.gateway.pk).last_seen
    poll = statements(lambda: client.get(CONFIG_URL, HTTP_IF_NONE_MATCH=etag, HTTP_X_FUSEGUARD_VERSION="1.2.0"))
    assert len(poll) == CONFIG_POLL_STATEMENTS, "\n".join(poll)
    assert not any(sql.startswith("UPDATE") for sql in poll)
    assert Gateway.objects.get(pk=gateway_a.gateway.pk).last_seen == seen


def test_a_poll_writes_the_contact_time_once_it_is_older_than_the_refresh_interval(client, gateway_a):  # noqa: F811
    etag = client.get(CONFIG_URL)["ETag"]
    long_ago = timezone.now() - timedelta(seconds=last_seen_refresh_s() + 1)
    Gateway.objects.filter(pk=gateway_a.gateway.pk).update(last_seen=long_ago)
    assert client.get(CONFIG_URL, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert Gateway.objects.get(pk=gateway_a.gateway.pk).last_seen > long_ago


def test_a_new_software_version_or_config_is_recorded_at_once(client, gateway_a):  # noqa: F811
    etag = client.get(CONFIG_URL, HTTP_X_FUSEGUARD_VERSION="1.2.0")["ETag"]
    client.get(CONFIG_URL, HTTP_IF_NONE_MATCH=etag, HTTP_X_FUSEGUARD_VERSION="1.3.0")
    assert Gateway.objects.get(pk=gateway_a.gateway.pk).software_version == "1.3.0"

    gateway_a.network.name = "renamed"
    gateway_a.network.save()
    new_etag = client.get(CONFIG_URL, HTTP_IF_NONE_MATCH=etag, HTTP_X_FUSEGUARD_VERSION="1.3.0")["ETag"]
    assert new_etag != etag and Gateway.objects.get(pk=gateway_a.gateway.pk).config_etag == new_etag


@pytest.mark.parametrize(("grace_s", "refresh_s"), [(120, 30), (600, 60), (20, 5)])
def test_the_contact_time_never_lags_more_than_a_quarter_of_the_silent_gateway_grace_period(settings, grace_s, refresh_s):
    settings.ALERTS_GATEWAY_GRACE_PERIOD_S = grace_s
    assert last_seen_refresh_s() == refresh_s
