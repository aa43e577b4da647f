"""`manage.py creategateway`: a gateway for a site with its token printed once, clear refusals with exit status 1."""

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from fleet.models import Gateway
from fleet.services.gateway_tokens import gateway_authenticate

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("creategateway", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_creates_the_gateway_and_prints_only_its_token_on_stdout(tenant_a):
    out, err = run(str(tenant_a.site.pk), "--name", "garage-gw")
    token = out.strip()
    gateway = Gateway.objects.get(site=tenant_a.site, name="garage-gw")
    assert gateway_authenticate(token) == gateway
    assert gateway.token_hash == hashlib.sha256(token.encode()).hexdigest()  # stored hashed, shown only here
    assert "garage-gw" in err and tenant_a.site.name in err and "only this once" in err


def test_without_a_name_the_gateway_is_named_after_the_site(tenant_a):
    tenant_a.site.name = "Garage North"
    tenant_a.site.save()
    run(str(tenant_a.site.pk))
    assert Gateway.objects.filter(site=tenant_a.site, name="garage-north").exists()


def test_an_unknown_site_is_refused_with_status_1(tenant_a):
    with pytest.raises(CommandError, match="no site with id 999999") as refused:
        run("999999", "--name", "x")
    assert refused.value.returncode == 1
    assert not Gateway.objects.filter(name="x").exists()


def test_a_name_the_site_already_has_is_refused_with_status_1(tenant_a):
    token_hash_before = tenant_a.gateway.token_hash
    with pytest.raises(CommandError, match=f"already has a gateway named '{tenant_a.gateway.name}'") as refused:
        run(str(tenant_a.site.pk), "--name", tenant_a.gateway.name)
    assert refused.value.returncode == 1
    assert Gateway.objects.filter(site=tenant_a.site).count() == 1
    tenant_a.gateway.refresh_from_db()
    assert tenant_a.gateway.token_hash == token_hash_before


def test_the_same_name_at_another_site_is_fine(tenant_a, tenant_b):
    run(str(tenant_b.site.pk), "--name", tenant_a.gateway.name)
    assert Gateway.objects.filter(name=tenant_a.gateway.name).count() == 2


@pytest.mark.parametrize("name, field", [("", "name"), ("x" * 101, "name")])
def test_an_invalid_name_is_refused_naming_the_field(tenant_a, name, field):
    with pytest.raises(CommandError, match=f"{field}: ") as refused:
        run(str(tenant_a.site.pk), "--name", name)
    assert refused.value.returncode == 1
    assert Gateway.objects.filter(site=tenant_a.site).count() == 1


def test_a_malformed_command_line_exits_with_status_2():
    # argparse refuses before any database is touched.
    result = subprocess.run(
        [sys.executable, "manage.py", "creategateway", "not-a-number"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "SITE_ID" in result.stderr and "invalid int value" in result.stderr
