"""Benchmark: meter reads per second over loopback, and the cost of decoding one reading.

    .venv/bin/python bench/meter_read.py [--seconds 3] [--models carlo-gavazzi-em24 ...]

The simulated meter runs on its own event loop in a second thread, so the figure is
what one MeterClient achieves against a prompt device, not a shared-loop artefact.
Results depend on the machine; it is described in the first lines of the output.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
import timeit
from pathlib import Path

import pymodbus

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench.machine import describe  # noqa: E402

from meters import MeterClient, get_model
from meters.decode import decode_reading
from meters.sim import MeterSimulator
from meters.sim.layouts import DEFAULT_VALUES, build_image, quantity_values
from meters.sunspec import meter_registers

DEFAULT_MODELS = ("carlo-gavazzi-em24", "siemens-7km2200", "tq-em300-lr", "fronius-ts65a-gen24", "kostal-ksem")


def describe_machine() -> str:
    """Where the numbers come from, with the pymodbus version."""
    return f"{describe()}, pymodbus {pymodbus.__version__}"


class SimulatorThread:
    """A MeterSimulator on its own event loop in a daemon thread."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with MeterSimulator(self.key) as sim:
            self.port = sim.port
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> SimulatorThread:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


async def reads_per_second(key: str, port: int, seconds: float) -> tuple[float, int]:
    """(reads per second, requests per read) for one client reading back to back."""
    async with MeterClient(key, "127.0.0.1", port, timeout_s=2.0) as client:
        await client.read()  # connect (and SunSpec discovery) outside the measurement
        count = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            await client.read()
            count += 1
        elapsed = time.perf_counter() - started
        return count / elapsed, len(client.blocks)


def decode_microseconds(key: str) -> float:
    """Mean time to decode and check one reading from an in-memory register image."""
    model = get_model(key)
    image = build_image(model, quantity_values(DEFAULT_VALUES))
    registers = None
    if not model.registers:  # SunSpec: the simulator puts the meter model after 'SunS' + common(65)
        registers = meter_registers(model.sunspec_model_id or 213, 40000 + 2 + 2 + 65)
    runs = 5000
    seconds = timeit.timeit(lambda: decode_reading(model, image, registers), number=runs)
    return seconds / runs * 1e6


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per model")
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    args = parser.parse_args()
    print(describe_machine())
    print(f"{'model':24} {'requests/read':>13} {'reads/s':>9} {'ms/read':>8} {'decode µs':>10}")
    for key in args.models:
        with SimulatorThread(key) as simulator:
            rate, requests = asyncio.run(reads_per_second(key, simulator.port, args.seconds))
        decode_us = decode_microseconds(key)
        print(f"{key:24} {requests:>13} {rate:>9.0f} {1000 / rate:>8.2f} {decode_us:>10.1f}")


if __name__ == "__main__":
    main()
