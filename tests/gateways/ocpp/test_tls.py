"""OCPP security profile 2: the central system on wss:// with the gateway's certificate, plus HTTP Basic."""

import shutil
import ssl
import subprocess

import pytest

from gateways.chargers.registry import DriverContext, make_driver
from gateways.ocpp16.link import LinkState
from gateways.protocol import parse_site_config
from tests.gateways.ocpp.peer import basic, connected_peer
from tests.gateways.site_harness import eventually
from tests.processes import free_port

PASSWORD = "tls-and-basic-auth-pw"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a test certificate")
@pytest.mark.asyncio
async def test_a_charge_point_connects_over_wss_with_its_password(tmp_path):
    cert, key = tmp_path / "ocpp.crt", tmp_path / "ocpp.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    config = parse_site_config({
        "gateway": {"id": "gw", "ocpp_listen": f"127.0.0.1:{free_port()}", "ocpp_tls_cert": str(cert),
                    "ocpp_tls_key": str(key)},
        "networks": [{"id": "main", "max_current_per_phase_a": 32, "meter": {"model": "abb-m4m", "host": "127.0.0.1"},
                      "chargers": [{"id": "cp-tls", "driver": "ocpp16", "password": PASSWORD}]}],
    })
    context = DriverContext(config.gateway)
    await context.prepare(config)
    driver = await make_driver(config.networks[0].chargers[0], context, 1.0)
    await driver.start()
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        async with connected_peer(f"wss://127.0.0.1:{context.ocpp.port}", "cp-tls", headers=basic("cp-tls", PASSWORD),
                                  ssl=trust):
            await eventually(lambda: driver.link.state is LinkState.READY, what="configured over TLS")
    finally:
        await context.close()
