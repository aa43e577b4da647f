"""`python -m meters`: list, read (one line of reason and a non-zero exit on failure), simulate."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from meters import MeterClient, MeterTransportError, model_keys
from meters.registers import RegisterKind
from meters.sim import Fault, MeterSimulator

REPO = Path(__file__).resolve().parents[2]
JSON_KEYS = {
    "model", "current_a", "voltage_v", "power_w", "power_total_w",
    "energy_import_wh", "energy_export_wh", "frequency_hz",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_cli(*args: str, timeout_s: float = 20.0) -> tuple[int, str, str, float]:
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "meters", *args,
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout_s)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode(), time.monotonic() - started


@pytest.mark.asyncio
async def test_list_shows_every_key_with_its_verification() -> None:
    code, out, _err, _ = await run_cli("list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["KEY", "MANUFACTURER", "MODEL", "PROTOCOL"]
    for key in model_keys():
        (line,) = [line for line in lines if line.startswith(key + " ")]
        assert "verified" in line
    assert "unverified: no public register map" in out
    for key in ("abb-m4m", "gossen-metrawatt-em228x", "gossen-metrawatt-em238x", "tq-em300-lr"):
        (line,) = [line for line in lines if line.startswith(key + " ")]
        assert "verified (manufacturer map)" in line


@pytest.mark.asyncio
async def test_read_json_prints_exactly_one_object() -> None:
    # An M4M that lacks a frequency reads ABB's "not available" marker there.
    async with MeterSimulator("abb-m4m", values={"frequency_hz": None}) as sim:
        code, out, err, _ = await run_cli(
            "read", "abb-m4m", "--host", "127.0.0.1", "--port", str(sim.port), "--json"
        )
    assert code == 0, err
    reading = json.loads(out)
    assert set(reading) == JSON_KEYS
    assert reading["model"] == "abb-m4m"
    assert reading["current_a"] == pytest.approx([12.5, 8.25, 3.0])
    assert reading["power_w"] == pytest.approx([2800.0, 1850.0, 650.0])
    assert all(len(reading[field]) == 3 for field in ("current_a", "voltage_v", "power_w"))
    assert reading["frequency_hz"] is None  # not available: null, not absent


@pytest.mark.asyncio
async def test_read_shows_an_installer_each_phase_s_power_and_direction_and_the_energies() -> None:
    async with MeterSimulator("abb-m4m", values={"power_w": [2800.0, -1850.0, None]}) as sim:
        code, out, err, _ = await run_cli("read", "abb-m4m", "--host", "127.0.0.1", "--port", str(sim.port))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "abb-m4m: ABB M4M"
    assert lines[1].startswith(f"at 127.0.0.1:{sim.port} unit 1, function code 3, read ")
    assert "map: verified (manufacturer map): ABB M4M Modbus map v.1.3N" in out
    rows = {line[:14].strip(): line[14:].split() for line in lines if line[:14].strip()}
    assert rows["current"] == ["12.50", "A", "8.25", "A", "3.00", "A"]
    assert rows["active power"] == ["2,800.0", "W", "-1,850.0", "W", "n/a"]  # L3: ABB's marker
    assert rows["direction"] == ["import", "export", "n/a"]
    assert rows["energy import"] == ["12,345.600", "kWh"]
    assert rows["energy export"] == ["2,345.000", "kWh"]
    assert "must show import on every phase" in " ".join(out.split())


@pytest.mark.asyncio
async def test_read_of_an_energymid_names_function_code_4_and_its_connection_limit() -> None:
    async with MeterSimulator("gossen-metrawatt-em228x") as sim:
        code, out, err, _ = await run_cli(
            "read", "gossen-metrawatt-em228x", "--host", "127.0.0.1", "--port", str(sim.port)
        )
    assert code == 0, err
    text = " ".join(out.split())
    assert "function code 4" in text
    assert "drop the one idle longest" in text and "ignores the Modbus unit id" in text


@pytest.mark.asyncio
async def test_read_with_a_custom_map_for_a_meter_behind_a_prodata_2() -> None:
    from meters import load_map

    map_path = REPO / "meters" / "maps" / "abb-b23.toml"
    async with MeterSimulator(load_map(map_path, key="prodata2-abb-b23-312-100")) as sim:
        code, out, err, _ = await run_cli(
            "read", "prodata2-abb-b23-312-100", "--host", "127.0.0.1", "--port", str(sim.port),
            "--map", str(map_path), "--json",
        )
    assert code == 0, err
    assert json.loads(out)["model"] == "prodata2-abb-b23-312-100"


async def assert_one_line_failure(args: list[str], exit_code: int, words: str, within_s: float) -> None:
    code, out, err, elapsed = await run_cli(*args)
    assert code == exit_code, err
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert words in err
    assert elapsed < within_s


@pytest.mark.asyncio
async def test_read_refused_connection_fails_in_one_line() -> None:
    await assert_one_line_failure(
        ["read", "carlo-gavazzi-em24", "--host", "127.0.0.1", "--port", str(free_port()), "--timeout", "1"],
        3, "transport failure", within_s=15,
    )


@pytest.mark.asyncio
async def test_read_timeout_fails_within_the_timeout() -> None:
    async with MeterSimulator("carlo-gavazzi-em24") as sim:
        await sim.drop_out(True, mode="silent")
        # Interpreter start-up is part of the wall time measured here, hence the margin.
        await assert_one_line_failure(
            ["read", "carlo-gavazzi-em24", "--host", "127.0.0.1", "--port", str(sim.port), "--timeout", "1"],
            3, "no answer within 1 s", within_s=1 + 10,
        )


@pytest.mark.asyncio
async def test_read_modbus_exception_fails_with_the_code() -> None:
    async with MeterSimulator("siemens-7km2200") as sim:
        sim.fault(Fault.EXCEPTION, exception_code=2)
        await assert_one_line_failure(
            ["read", "siemens-7km2200", "--host", "127.0.0.1", "--port", str(sim.port), "--timeout", "1"],
            4, "exception 2 (illegal data address)", within_s=15,
        )


@pytest.mark.asyncio
async def test_read_implausible_data_fails_and_names_the_value() -> None:
    async with MeterSimulator("carlo-gavazzi-em24") as sim:
        sim.set_register(RegisterKind.HOLDING, 0x000D, 0x0100)  # current L1 high word: 16.8 kA
        await assert_one_line_failure(
            ["read", "carlo-gavazzi-em24", "--host", "127.0.0.1", "--port", str(sim.port), "--timeout", "1"],
            5, "current L1", within_s=15,
        )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("model", "words"),
    [("no-such-meter", "unknown meter model"), ("abb-m2m", "custom map")],
)
async def test_read_without_a_usable_map_says_so(model: str, words: str) -> None:
    await assert_one_line_failure(["read", model, "--host", "127.0.0.1"], 6, words, within_s=15)


@pytest.mark.asyncio
async def test_simulate_serves_values_from_a_json_file_and_reloads_it(tmp_path: Path) -> None:
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"current_a": [20.0, 10.0, 5.0]}), encoding="utf-8")
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "meters", "simulate", "kostal-ksem", "--port", str(port),
        "--values", str(values), "--common-length", "66",
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first_line = await asyncio.wait_for(process.stdout.readline(), 15)
        assert f"simulating kostal-ksem on 127.0.0.1:{port} unit 71" in first_line.decode()
        async with MeterClient("kostal-ksem", "127.0.0.1", port, timeout_s=2) as client:
            for _ in range(40):
                if (await client.read()).current_a[0] == pytest.approx(20.0):
                    break
                await asyncio.sleep(0.1)
            assert (await client.read()).current_a == pytest.approx((20.0, 10.0, 5.0))
            values.write_text(json.dumps({"current_a": [1.0, 2.0, 3.0]}), encoding="utf-8")
            os.utime(values, (time.time() + 5, time.time() + 5))  # a new mtime even on coarse clocks
            for _ in range(40):
                if (await client.read()).current_a[0] == pytest.approx(1.0):
                    break
                await asyncio.sleep(0.1)
            assert (await client.read()).current_a == pytest.approx((1.0, 2.0, 3.0))
            # The same file can make the meter drop out and come back.
            values.write_text(json.dumps({"drop_out": "close"}), encoding="utf-8")
            os.utime(values, (time.time() + 10, time.time() + 10))
            for _ in range(40):
                try:
                    await client.read()
                except MeterTransportError:
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the simulated meter did not drop out")
            values.write_text(json.dumps({"drop_out": False}), encoding="utf-8")
            os.utime(values, (time.time() + 15, time.time() + 15))
            for _ in range(100):  # allows for the client's reconnect back-off
                await asyncio.sleep(0.1)
                try:
                    if (await client.read()).current_a[0] == pytest.approx(1.0):
                        break
                except MeterTransportError:
                    continue
            else:
                pytest.fail("the simulated meter did not come back")
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
