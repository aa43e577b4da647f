"""Reason codes are stable strings, each with human text."""

from __future__ import annotations

import pytest

from balancing import REASON_CODES, describe, is_reason_code
from balancing.reasons import sub_circuit


@pytest.mark.parametrize("code", REASON_CODES)
def test_every_code_has_its_own_text(code):
    assert describe(code) and not describe(code).startswith("Unknown")


def test_texts_are_distinct():
    assert len({describe(code) for code in REASON_CODES}) == len(REASON_CODES)


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("limited_by_phase_L2", "Limited by the maximum current of grid phase L2."),
        ("house_over_limit_L3", "Paused: the house alone draws more than the limit of grid phase L3."),
        (sub_circuit("deck"), "Limited by the per-phase limit of sub-circuit deck."),
        ("limited_by_phase_L4", "Unknown reason (limited_by_phase_L4)."),
        ("from_the_future", "Unknown reason (from_the_future)."),
    ],
)
def test_describe(code, text):
    assert describe(code) == text


@pytest.mark.parametrize(
    ("code", "known"), [("at_max", True), ("sub_circuit:deck", True), ("sub_circuit:", False), ("limited_by_phase_L4", False)]
)
def test_is_reason_code(code, known):
    assert is_reason_code(code) is known


def test_the_codes_the_lead_named_exist():
    for code in (
        "limited_by_phase_L2",
        "network_power",
        "unbalance_limit",
        "fallback",
        "fallback_zero",
        "priority",
        "at_max",
        "waiting_turn",
        "inactive",
        "house_over_limit_L1",
    ):
        assert code in REASON_CODES
