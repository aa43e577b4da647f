"""The control box input over real Modbus TCP: the bit, its polarity, and failures as distinct errors."""

from __future__ import annotations

import pytest

from gateways.dimming_input import DimmingInput, DimmingInputError, DimmingInputRefused
from gateways.protocol.power_caps import DimmingInputConfig
from gateways.simulators.control_box import ControlBoxSimulator
from meters.sim import Fault


def reader(box: ControlBoxSimulator, **fields) -> DimmingInput:
    config = DimmingInputConfig(**{"host": "127.0.0.1", "port": box.port, "kind": "discrete_input", "address": 4,
                                   "unit_id": 2, **fields})
    return DimmingInput(config, timeout_s=0.3)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["coil", "discrete_input"])
@pytest.mark.parametrize("active", [1, 0])
async def test_the_signal_reads_as_dimmed_by_its_polarity(kind, active):
    box = ControlBoxSimulator(unit_id=2, address=4, active=active)
    await box.start()
    signal = reader(box, kind=kind, active=active)
    try:
        assert await signal.read() is False
        box.set_dimmed(True)
        assert await signal.read() is True
        assert box.server.reads_by_function[1 if kind == "coil" else 2] == 2
    finally:
        await signal.close()
        await box.stop()


@pytest.mark.asyncio
async def test_a_wrong_address_is_a_refusal_and_silence_a_transport_error():
    box = ControlBoxSimulator(unit_id=2, address=4)
    await box.start()
    wrong = reader(box, address=5)
    silent = reader(box)
    try:
        with pytest.raises(DimmingInputRefused, match="Modbus exception 2"):
            await wrong.read()
        box.server.faults.fault = Fault.SILENT
        with pytest.raises(DimmingInputError, match="no answer within 0.3 s"):
            await silent.read()
    finally:
        await wrong.close()
        await silent.close()
        await box.stop()
