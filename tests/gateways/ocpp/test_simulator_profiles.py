"""The simulated charge point reads its profiles as OCPP 1.6 ed. 2 section 3.13 says a charger does.

Stacking (3.13.2): among valid profiles of a purpose the highest stackLevel
prevails; combining (3.13.1 / 3.13.3): TxProfile over TxDefaultProfile during a
transaction, ChargePointMaxProfile caps; replacing and clearing as in 5.16.3 /
5.16.4 and 6.13 with errata v4.0 3.25 / 3.26.
"""

from datetime import UTC, datetime, timedelta

import pytest

from gateways.simulators.ocpp_profiles import ProfileStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def profile(profile_id, stack_level, limit, *, purpose="TxDefaultProfile", valid_to=None, valid_from=None,
            start=NOW - timedelta(minutes=5), duration=None, phases=None, periods=None):
    schedule = {"charging_rate_unit": "A", "start_schedule": start.isoformat(),
                "charging_schedule_period": periods or [{"start_period": 0, "limit": limit,
                                                         **({"number_phases": phases} if phases else {})}]}
    if duration is not None:
        schedule["duration"] = duration
    data = {"charging_profile_id": profile_id, "stack_level": stack_level, "charging_profile_purpose": purpose,
            "charging_profile_kind": "Absolute", "charging_schedule": schedule}
    if valid_to:
        data["valid_to"] = valid_to.isoformat()
    if valid_from:
        data["valid_from"] = valid_from.isoformat()
    return data


def limit_of(installed, *, connector=1, in_transaction=False, now=NOW):
    store = ProfileStore()
    for connector_id, item in installed:
        store.install(connector_id, item)
    composite = store.composite_limit(connector, now, in_transaction=in_transaction)
    return None if composite is None else composite[0]


@pytest.mark.parametrize("installed, expected", [
    # nothing installed: the charger's own maximum applies (None here)
    ([], None),
    # the live layer above the failsafe layer prevails while valid...
    ([(1, profile(1, 0, 6)), (1, profile(2, 3, 16, valid_to=NOW + timedelta(seconds=10)))], 16),
    # ...and lapses at its validTo, leaving the failsafe layer
    ([(1, profile(1, 0, 6)), (1, profile(2, 3, 16, valid_to=NOW))], 6),
    # not valid yet
    ([(1, profile(1, 0, 6)), (1, profile(2, 3, 16, valid_from=NOW + timedelta(seconds=1)))], 6),
    # a higher stack level wins even with a higher limit
    ([(1, profile(1, 1, 10)), (1, profile(2, 2, 20))], 20),
    # a charge-point-wide (connector 0) default applies to the connector; the connector's own at the same level first
    ([(0, profile(1, 0, 8))], 8),
    ([(0, profile(1, 1, 8)), (1, profile(2, 1, 12))], 12),
    # the period in force is the one started last; a schedule that has ended gives no limit
    ([(1, profile(1, 0, 0, periods=[{"start_period": 0, "limit": 10}, {"start_period": 60, "limit": 7}]))], 7),
    ([(1, profile(1, 0, 6)), (1, profile(2, 1, 16, duration=60))], 6),
    # ChargePointMaxProfile caps whatever applies
    ([(1, profile(1, 0, 16)), (0, profile(2, 0, 10, purpose="ChargePointMaxProfile"))], 10),
    # another connector's profile does not apply
    ([(2, profile(1, 0, 6))], None),
])
def test_composite_limit(installed, expected):
    assert limit_of(installed) == expected


def test_a_tx_profile_overrules_the_default_during_a_transaction_only():
    installed = [(1, profile(1, 5, 16)), (1, profile(2, 0, 8, purpose="TxProfile"))]
    assert limit_of(installed, in_transaction=True) == 8
    assert limit_of(installed, in_transaction=False) == 16


def test_a_profile_replaces_the_one_with_its_id_or_its_stack_level_and_purpose():
    store = ProfileStore()
    store.install(1, profile(7, 0, 6))
    store.install(1, profile(7, 2, 10))  # same id
    store.install(1, profile(8, 2, 12))  # same stack level and purpose
    assert [(p.id, p.stack_level) for p in store.profiles] == [(8, 2)]


def test_clearing_by_id_or_by_every_criterion_given():
    store = ProfileStore()
    for connector_id, item in ((1, profile(1, 0, 6)), (1, profile(2, 1, 8)), (1, profile(3, 2, 9)),
                               (1, profile(4, 1, 9, purpose="TxProfile"))):
        store.install(connector_id, item)
    assert store.clear(charging_profile_purpose="TxDefaultProfile", stack_level=1)
    assert [p.id for p in store.profiles] == [1, 3, 4]
    assert not store.clear(id=2)
    assert store.clear(id=3)
    assert [p.id for p in store.profiles] == [1, 4]
