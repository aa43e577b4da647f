"""The site config's keys for OCPP 1.6J chargers and the agent's central system (`ocpp_listen`).

OCPP chargers dial in to the agent (OCPP-J 1.6, 3.1: the charge point is the
websocket client), so they are known by the identity in their URL rather than
by a host; `error` is the config's error class (kept apart to keep config.py small).
"""

from __future__ import annotations

from gateways.protocol.fields import Fields, host_error
from gateways.protocol.limits import (
    DEFAULT_OCPP_PORT,
    OCPP_CONNECTOR_ID_RANGE,
    OCPP_IDENTITY_MAX_LENGTH,
    OCPP_PASSWORD_LENGTH_RANGE,
    PORT_RANGE,
)

OCPP_DRIVER = "ocpp16"
"""The OCPP 1.6J driver's key: its chargers have an identity, not a host."""


def split_listen(value: str) -> tuple[str, int]:
    """`ocpp_listen` as (host, port): "HOST:PORT", "HOST" (port 8887) or "[IPv6]:PORT"; raises ValueError."""
    host, port_text = value, None
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{value!r} is not HOST:PORT")
            port_text = rest[1:]
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    port = DEFAULT_OCPP_PORT
    if port_text is not None:
        if not port_text.isdigit() or not PORT_RANGE[0] <= int(port_text) <= PORT_RANGE[1]:
            raise ValueError(f"port {port_text!r} of {value!r} must be a number from {PORT_RANGE[0]} to {PORT_RANGE[1]}")
        port = int(port_text)
    problem = host_error(host)
    if problem:
        raise ValueError(f"{problem} (expected HOST:PORT, e.g. 0.0.0.0:{DEFAULT_OCPP_PORT})")
    return host, port


OCPP_KEYS = ("charge_point_id", "connector_id", "password")


def parse_ocpp_keys(f: Fields, driver: str, charger_id: str, error) -> dict:
    """An OCPP charger's identity, connector and password; other drivers must not carry them (they would be ignored)."""
    if driver != OCPP_DRIVER:
        for key in OCPP_KEYS:
            if f.raw(key, None) is not None:
                raise error(f.at(key), f"is only for the {OCPP_DRIVER} driver, not {driver}")
        return {}
    identity = f.string("charge_point_id", None) or charger_id
    problem = ocpp_identity_error(identity)
    if problem:
        raise error(f.at("charge_point_id" if "charge_point_id" in f.data else "id"), problem)
    password = f.string("password", None) or None
    low, high = OCPP_PASSWORD_LENGTH_RANGE
    if password is not None and not low <= len(password) <= high:
        raise error(f.at("password"), f"must be {low} to {high} characters long (OCPP security profile 1), "
                    f"got {len(password)}")
    return {
        "charge_point_id": identity,
        "connector_id": f.integer("connector_id", None, minimum=OCPP_CONNECTOR_ID_RANGE[0],
                                  maximum=OCPP_CONNECTOR_ID_RANGE[1], nullable=True) or 1,
        "password": password,
    }


def ocpp_identity_error(identity: str) -> str | None:
    """Why a charge point identity cannot stand as the last segment of its websocket URL, or None when it can."""
    if not identity or len(identity) > OCPP_IDENTITY_MAX_LENGTH:
        return f"must be 1 to {OCPP_IDENTITY_MAX_LENGTH} characters, got {len(identity)}"
    bad = sorted({ch for ch in identity if ch in "/?#%:" or not ch.isprintable() or ch.isspace()})
    if bad:
        return f"{identity!r} cannot be a URL path segment (contains {''.join(bad)!r})"
    return None


def check_ocpp_identities_once(networks, error) -> None:
    """A charge point identity is one websocket, so one configured charger (one connector) per identity."""
    taken: dict[str, str] = {}
    for n_index, network in enumerate(networks):
        for c_index, charger in enumerate(network.chargers):
            if charger.driver != OCPP_DRIVER:
                continue
            if charger.charge_point_id in taken:
                raise error(
                    f"networks[{n_index}].chargers[{c_index}].charge_point_id",
                    f"{charger.charge_point_id!r} is already configured as {taken[charger.charge_point_id]}; "
                    "one charge point identity, one charger",
                )
            taken[charger.charge_point_id] = f"{network.id}/{charger.id}"


