"""Upgrading to grouped notifications: incidents open at the upgrade keep being reminded, and nobody is told twice."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE, AFTER = ("fleet", "0008_ocpp_chargers"), ("fleet", "0009_alert_groups")


@pytest.mark.django_db(transaction=True)
def test_open_incidents_are_filed_into_their_channels_groups_as_already_told():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        apps = executor.loader.project_state([BEFORE]).apps
        organization = apps.get_model("fleet", "Organization").objects.create(name="Up", slug="up")
        site = apps.get_model("fleet", "Site").objects.create(organization=organization, name="s")
        gateway = apps.get_model("fleet", "Gateway").objects.create(site=site, name="g")
        channel = apps.get_model("fleet", "NotificationChannel").objects.create(
            organization=organization, name="ops", kind="email", email_recipients="ops@up.example", repeat_interval_s=600
        )
        Incident = apps.get_model("fleet", "Incident")
        now = timezone.now()
        open_one = Incident.objects.create(organization=organization, site=site, gateway=gateway, kind="gateway_offline",
                                           started_at=now)
        Incident.objects.create(organization=organization, site=site, gateway=gateway, kind="gateway_offline",
                                started_at=now, status="resolved", resolved_at=now)

        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        apps = executor.loader.project_state([AFTER]).apps
        [group] = apps.get_model("fleet", "NotificationGroup").objects.all()
        assert (group.channel_id, group.key, group.labels) == (channel.pk, "kind=gateway_offline", {"kind": "gateway_offline"})
        assert 590 <= (group.next_flush_at - group.last_notified_at).total_seconds() <= 600
        assert list(group.members.values_list("incident_id", "announced")) == [(open_one.pk, "firing")]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
