"""Organisation admins manage their own organisation's members in the admin; operators and viewers only look."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from fleet.models import Membership, Role

pytestmark = pytest.mark.django_db

ADD = "admin:fleet_membership_add"


@pytest.fixture
def org_admin(tenant_a):
    user = get_user_model().objects.create_user(username="admin-alpha", password="pw-for-tests-only", is_staff=True)
    Membership.objects.create(user=user, organization=tenant_a.organization, role=Role.ADMIN)
    return user


@pytest.fixture
def newcomer():
    return get_user_model().objects.create_user(username="newcomer", password="pw-for-tests-only", is_staff=True)


def test_an_organisation_admin_adds_an_existing_account_by_user_name(client, org_admin, newcomer, tenant_a, tenant_b):
    client.force_login(org_admin)
    form = client.get(reverse(ADD)).content.decode()
    assert "Org alpha" in form and "Org bravo" not in form and "viewer-bravo" not in form  # no list of every account
    response = client.post(reverse(ADD), {"username": "newcomer", "organization": tenant_a.organization.pk, "role": "operator"})
    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer).role == Role.OPERATOR


def test_not_into_another_organisation_nor_twice_nor_an_unknown_account(client, org_admin, newcomer, tenant_a, tenant_b):
    client.force_login(org_admin)
    for data in (
        {"username": "newcomer", "organization": tenant_b.organization.pk, "role": "viewer"},
        {"username": "viewer-alpha", "organization": tenant_a.organization.pk, "role": "viewer"},
        {"username": "nobody", "organization": tenant_a.organization.pk, "role": "viewer"},
    ):
        assert client.post(reverse(ADD), data).status_code == 200  # the form again, with the error
    assert not Membership.objects.filter(user=newcomer).exists()
    assert Membership.objects.filter(organization=tenant_a.organization).count() == 3


def test_an_admin_changes_and_removes_members_of_their_organisation_only(client, org_admin, tenant_a, tenant_b):
    client.force_login(org_admin)
    own = Membership.objects.get(user=tenant_a.viewer)
    other = Membership.objects.get(user=tenant_b.viewer)
    assert client.post(reverse("admin:fleet_membership_delete", args=[own.pk]), {"post": "yes"}).status_code == 302
    assert not Membership.objects.filter(pk=own.pk).exists()
    client.post(reverse("admin:fleet_membership_delete", args=[other.pk]), {"post": "yes"})
    assert Membership.objects.filter(pk=other.pk).exists()


def test_operators_and_viewers_cannot_manage_members(client, tenant_a, newcomer):
    for user in (tenant_a.operator, tenant_a.viewer):
        client.force_login(user)
        assert client.get(reverse(ADD)).status_code == 403
        response = client.post(reverse(ADD), {"username": "newcomer", "organization": tenant_a.organization.pk, "role": "admin"})
        assert response.status_code == 403
    assert not Membership.objects.filter(user=newcomer).exists()
