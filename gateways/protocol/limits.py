"""The numbers of the site config's rules, defined once for the agent's parser and the fleet's models.

The fleet's model fields, database constraints and forms take their bounds
from here, and the models' `clean()` runs the protocol's own validators, so a
value the server accepts is a value the agent accepts.
"""

from __future__ import annotations

PORT_RANGE = (1, 65535)
UNIT_ID_RANGE = (0, 255)
PRIORITY_RANGE = (-1000, 1000)
"""Charger priorities: higher is served first; the range keeps them readable and fits any integer column."""
CHARGER_CURRENT_RANGE_A = (6, 80)
"""A charger's min/max current: 6 A is the IEC 61851-1 minimum; no AC charger goes above 80 A."""
PER_PHASE_LIMIT_RANGE_A = (1, 4000)
NOMINAL_VOLTAGE_RANGE_V = (100, 260)
POLL_INTERVAL_RANGE_S = (0.1, 60)
METER_TIMEOUT_RANGE_S = (0.05, 10)
FAILSAFE_TIMEOUT_RANGE_S = (10, 600)
"""The chargers' own watchdog: KEBA stations accept 10-600 s over UDP (5-600 s over Modbus)."""
FROZEN_AFTER_RANGE_S = (2, 600)
"""A meter whose every value stays unchanged this long counts as frozen (lost)."""
DEFAULT_POLL_INTERVAL_S = 1.0
DEFAULT_FROZEN_AFTER_S = 10
DEFAULT_FAILSAFE_TIMEOUT_S = 60
HOST_MAX_LENGTH = 253
DEFAULT_OCPP_PORT = 8887
"""Where the agent's OCPP 1.6J central system listens unless `ocpp_listen` says otherwise."""
OCPP_CONNECTOR_ID_RANGE = (1, 100)
"""Connector ids of a charge point start at 1; 0 means the whole charge point (OCPP 1.6 ed. 2, 2.2 / 7.x)."""
OCPP_IDENTITY_MAX_LENGTH = 48
"""Charge point identities are the last segment of the websocket URL (OCPP-J 1.6, 3.1.1); 48 as in OCPP 2.0.1's identity."""
OCPP_PASSWORD_LENGTH_RANGE = (16, 40)
"""HTTP Basic password of security profile 1/2: the AuthorizationKey, 16 to 40 characters (OCPP 1.6 Security Whitepaper ed. 2)."""


def meter_timeout_error(timeout_s: float | None, poll_interval_s: float) -> str | None:
    """Why a meter timeout does not fit the gateway's poll interval, or None when it does.

    A read must end before the next poll is due, or one dead meter stalls the
    loop of every network of the site.
    """
    if timeout_s is None or timeout_s < poll_interval_s:
        return None
    return (
        f"({timeout_s:g} s) must be shorter than the gateway's poll interval ({poll_interval_s:g} s, "
        "gateway.poll_interval_s), or one dead meter stalls the loop"
    )

# --- external power caps (EnWG section 14a dimming, operators' and scheduled caps) ---------------
COIL_ADDRESS_RANGE = (0, 65535)
"""A coil or discrete input's 0-based protocol address (as in the custom meter maps)."""
DIMMING_INPUT_KINDS = ("coil", "discrete_input")
"""Modbus function code 1 (read coils) or 2 (read discrete inputs)."""
DEFAULT_DIMMING_PORT = 502
DEFAULT_DIMMING_UNIT_ID = 1
POWER_CAP_RANGE_W = (0, 10_000_000)
POWER_CAP_SOURCES = ("grid_operator", "operator", "schedule")
"""Who set an external cap; each gives the engine's reason code of the same name plus ``_cap``."""
MAX_POWER_CAPS_PER_NETWORK = 200
"""Caps a site config may carry per network (the fleet sends those not yet ended)."""
MAX_POWER_CAP_REASON_CHARS = 200
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""The days a recurring cap names, in the order of ``datetime.weekday()``."""
MAX_RECURRING_CAPS_PER_NETWORK = 50
"""Recurring caps (tariff windows) a site config may carry per network."""
