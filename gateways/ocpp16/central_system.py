"""The agent's OCPP 1.6J endpoint: charge points dial in at ws(s)://GATEWAY:8887/<identity>.

OCPP-J 1.6 (see `gateways.ocpp16`), 3.1.1 / 3.1.2 (p. 6-7): the charge point
opens the websocket with its identity as the last path segment and the
subprotocol `ocpp1.6`; an identity the central system does not know is
refused with HTTP 404 at the handshake (3.2, p. 8). Security profile 1
(security white paper ed. 3, 2.3 p. 6-8, A00.FR.202-205): HTTP Basic
authentication, user = identity, password = the charger's AuthorizationKey,
configured here as `password`; profile 2 (2.4, p. 8-10) adds TLS 1.2 or
above (`ocpp_tls_cert` / `ocpp_tls_key`). A charge point that connects again
replaces its older connection, which is closed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import logging
import ssl
import time
from http import HTTPStatus
from urllib.parse import unquote

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from gateways.ocpp16.link import ChargePointLink
from gateways.ocpp16.session import CentralSession, run_session
from gateways.protocol import ChargerConfig, GatewayConfig
from gateways.protocol.ocpp_keys import split_listen

log = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp1.6"


def identity_of(path: str) -> str:
    """The charge point identity: the last segment of the URL path, percent-decoded."""
    return unquote(path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])


def basic_auth(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic` header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


class CentralSystem:
    """One websocket server for every OCPP charger of the site; each configured identity has a `ChargePointLink`."""

    def __init__(self, gateway: GatewayConfig, *, clock=time.monotonic):
        self.host, self.port = split_listen(gateway.ocpp_listen)
        self.settings = (gateway.ocpp_listen, gateway.ocpp_tls_cert, gateway.ocpp_tls_key)
        self.tls = (gateway.ocpp_tls_cert, gateway.ocpp_tls_key)
        self.clock = clock
        self.links: dict[str, ChargePointLink] = {}
        self._refused_logged: set[tuple[str, str]] = set()
        self._server = None
        self._tasks: set[asyncio.Task] = set()

    def link(self, config: ChargerConfig) -> ChargePointLink:
        """The link of a configured charger: an existing one keeps its connection and takes the new config."""
        link = self.links.get(config.charge_point_id)
        if link is None:
            link = self.links[config.charge_point_id] = ChargePointLink(config, clock=self.clock)
        else:
            link.config = config
        return link

    async def forget_except(self, identities: set[str]) -> None:
        """After a config change: close and drop the links of charge points no longer configured."""
        for identity in set(self.links) - identities:
            link = self.links.pop(identity)
            if link.session is not None:
                await link.session._connection.close(code=1000, reason="no longer configured")

    async def start(self) -> None:
        """Listen (idempotent); a port in use raises OSError, which the agent reports."""
        if self._server is not None:
            return
        context = None
        if self.tls[0]:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.tls[0], self.tls[1])
        self._server = await serve(self._handle, self.host, self.port, subprotocols=[SUBPROTOCOL],
                                   select_subprotocol=_ocpp16_if_offered,
                                   process_request=self._check_handshake, ssl=context, ping_interval=20,
                                   ping_timeout=20, max_size=256 * 1024)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("OCPP 1.6J central system listening on %s:%d%s", self.host, self.port, " (TLS)" if context else "")

    def _refuse(self, connection: ServerConnection, status: HTTPStatus, identity: str, why: str):
        if (identity, why) not in self._refused_logged:  # once per identity and reason, not per retry
            self._refused_logged.add((identity, why))
            log.warning("OCPP connection from %s as %r refused: %s", connection.remote_address, identity, why)
        return connection.respond(status, f"{why}\n")

    def _check_handshake(self, connection: ServerConnection, request):
        identity = identity_of(request.path)
        link = self.links.get(identity)
        if link is None:
            return self._refuse(connection, HTTPStatus.NOT_FOUND, identity, "unknown charge point identity")
        password = link.config.password
        if password is not None:
            credentials = basic_auth(request.headers.get("Authorization"))
            if credentials is None:
                response = self._refuse(connection, HTTPStatus.UNAUTHORIZED, identity, "no HTTP Basic credentials")
                response.headers["WWW-Authenticate"] = 'Basic realm="fuseguard"'
                return response
            user, given = credentials
            if user != identity or not hmac.compare_digest(given.encode(), password.encode()):
                return self._refuse(connection, HTTPStatus.UNAUTHORIZED, identity, "wrong user or password")
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        identity = identity_of(connection.request.path)
        if connection.subprotocol != SUBPROTOCOL:
            # OCPP-J 1.6, 3.2 (p. 8): complete the handshake without a subprotocol, then close at once.
            if (identity, "no ocpp1.6 subprotocol") not in self._refused_logged:
                self._refused_logged.add((identity, "no ocpp1.6 subprotocol"))
                log.warning("OCPP connection from %s as %r closed: it does not offer the ocpp1.6 subprotocol",
                            connection.remote_address, identity)
            await connection.close(code=1002, reason="ocpp1.6 subprotocol required")
            return
        link = self.links.get(identity)
        if link is None:  # dropped by a config change during the handshake
            await connection.close(code=1008, reason="unknown charge point identity")
            return
        old = link.session
        session = CentralSession(link, connection)
        link.attach(session)
        self._refused_logged = {key for key in self._refused_logged if key[0] != identity}
        if old is not None:
            log.info("OCPP charge point %s connected again; its older connection is closed", identity)
            await old._connection.close(code=1000, reason="replaced by a newer connection")
        else:
            log.info("OCPP charge point %s connected from %s", identity, connection.remote_address)
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            await run_session(session)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("OCPP charge point %s: session failed", identity)
        finally:
            self._tasks.discard(task)
            if link.session is session:
                log.info("OCPP charge point %s disconnected", identity)
            link.detach(session)

    async def close(self) -> None:
        """Stop listening and close every connection (the chargers keep their failsafe layer)."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=5)
            self._server = None


def _ocpp16_if_offered(connection: ServerConnection, offered) -> str | None:
    """Agree on ocpp1.6 when the charge point offers it; otherwise finish the handshake without one (then close)."""
    return SUBPROTOCOL if SUBPROTOCOL in offered else None
