"""The Celery app: JSON only, Redis from REDIS_URL, the beat table; and the in-process scheduler of the demo."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from fleet import celery_app
from fleet.celery import beat_table, start_in_process_scheduler
from fleet.models import Gateway, Incident, MeterState


def test_the_app_speaks_json_only_through_the_redis_broker_of_the_environment():
    assert celery_app.conf.task_serializer == "json" and celery_app.conf.result_serializer == "json"
    assert celery_app.conf.accept_content == ["json"]
    assert celery_app.conf.broker_url == settings.REDIS_URL and settings.REDIS_URL.startswith("redis://")
    assert celery_app.conf.task_always_eager is False


def test_the_beat_schedule_is_the_table_with_the_default_ten_second_evaluation():
    celery_app.loader.import_default_modules()
    celery_app.finalize()  # what a worker or beat does at start; the schedule is installed then
    assert ("alerts-evaluate", "fleet.tasks.alerts_evaluate", 10.0) in beat_table()
    schedule = celery_app.conf.beat_schedule
    assert schedule["alerts-evaluate"]["schedule"] == 10.0
    for _, task, _ in beat_table():
        assert task in celery_app.tasks


@pytest.mark.django_db(transaction=True)
def test_without_redis_the_demo_runs_the_same_tasks_in_process(tenant_a, webhook_channel, webhook):
    now = timezone.now()
    Gateway.objects.filter(pk=tenant_a.gateway.pk).update(last_seen=now)
    MeterState.objects.create(meter=tenant_a.meter, available=False, lost_since=now - timedelta(seconds=5))
    celery_app.conf.task_always_eager = True  # what settings choose when REDIS_URL is empty
    thread = start_in_process_scheduler()
    try:
        deadline = timezone.now() + timedelta(seconds=20)
        while not webhook.calls and timezone.now() < deadline:
            thread.stop_event.wait(0.1)
    finally:
        thread.stop_event.set()
        thread.join(10)
        celery_app.conf.task_always_eager = False

    assert [body["transition"] for body in webhook.bodies()] == ["opened"]
    assert Incident.objects.get().meter == tenant_a.meter
