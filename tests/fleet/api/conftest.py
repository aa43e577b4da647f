"""Fixtures for the operator API: authenticated clients per role, and telemetry rows in both tenants."""

from datetime import UTC, datetime

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from fleet.models import TelemetryEvent, TelemetrySample

T0 = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
"""A fixed moment (a multiple of 900 s since the epoch) that hand-made telemetry starts from."""


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tenants create four users per test; the production hasher would make that the slowest part of the suite."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def token_client(user) -> APIClient:
    """A client that authenticates like a tool does: with the user's DRF token in the header."""
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def as_user():
    """Build a token-authenticated client for any user: `as_user(tenant_a.viewer)`."""
    return token_client


@pytest.fixture
def tenants(tenant_a, tenant_b):
    """Both tenants, each with one event and one sample, so every endpoint has something to leak."""
    for seq, tenant in enumerate((tenant_a, tenant_b), start=1):
        TelemetryEvent.objects.create(
            gateway=tenant.gateway, network=tenant.network, seq=seq, ts=T0, type="meter_lost", subject="meter"
        )
        tenant.event = TelemetryEvent.objects.get(gateway=tenant.gateway)
        TelemetrySample.objects.create(
            gateway=tenant.gateway, network=tenant.network, seq=100 + seq, ts=T0, mode="normal",
            grid_l1_a=10.0, grid_l2_a=11.0, grid_l3_a=12.0, chargers={},
        )
    return tenant_a, tenant_b
