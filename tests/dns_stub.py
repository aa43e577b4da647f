"""A tiny DNS server on loopback that answers one name with a list of IPv4 addresses, like Docker's DNS.

Docker's embedded DNS answers a compose service's name with one address per
replica; the reverse proxy's `dynamic a` upstreams read that list. This stub
plays that part in tests: A queries for `name` (with or without a search
domain appended) get every address in `addresses`, AAAA queries an empty
answer, anything else NXDOMAIN. UDP only, one question per query, as resolvers send.
"""

from __future__ import annotations

import socket
import struct
import threading

_TYPE_A, _TYPE_AAAA, _CLASS_IN = 1, 28, 1


class DnsStub:
    """Answers `name` with `addresses` on a loopback UDP port, from a daemon thread, until `stop()`."""

    def __init__(self, name: str, addresses: list[str]):
        self.name = name.lower().rstrip(".")
        self.addresses = list(addresses)
        self.queries: list[tuple[str, int]] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="dns-stub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._socket.close()

    def _serve(self) -> None:
        while True:
            try:
                query, client = self._socket.recvfrom(512)
            except OSError:
                return  # closed
            reply = self.answer(query)
            if reply is not None:
                self._socket.sendto(reply, client)

    def answer(self, query: bytes) -> bytes | None:
        """The response to one query message, or None for one too short to answer."""
        if len(query) < 17:
            return None
        (query_id,) = struct.unpack("!H", query[:2])
        labels, position = [], 12
        while position < len(query) and query[position] != 0:
            length = query[position]
            labels.append(query[position + 1:position + 1 + length].decode("ascii", "replace").lower())
            position += 1 + length
        question_end = position + 5
        if question_end > len(query):
            return None
        qtype, qclass = struct.unpack("!HH", query[position + 1:question_end])
        self.queries.append((".".join(labels), qtype))
        question = query[12:question_end]
        known = bool(labels) and labels[0] == self.name
        records = []
        if known and qtype == _TYPE_A and qclass == _CLASS_IN:
            for address in self.addresses:
                # A pointer to the question's name, type A, class IN, TTL 0, four bytes of address.
                records.append(struct.pack("!HHHIH", 0xC00C, _TYPE_A, _CLASS_IN, 0, 4) + socket.inet_aton(address))
        rcode = 0 if known else 3
        header = struct.pack("!HHHHHH", query_id, 0x8180 | rcode, 1, len(records), 0, 0)
        return header + question + b"".join(records)
