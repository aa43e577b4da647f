"""`python -m gateways.simulators keba-udp | keba-modbus | ocpp | control-box`: simulated site devices to try the agent without hardware.

KEBA stations listen and the agent calls them; an OCPP 1.6J charge point
dials in to the agent's central system (`--url ws://GATEWAY:8887 --id cp1`);
`control-box` is a grid operator's control box (EnWG section 14a) as a Modbus
TCP coil and discrete input; `kill -USR1 PID` switches its "dim" signal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from gateways.chargers.keba_udp_protocol import KEBA_UDP_PORT
from gateways.simulators.control_box import ControlBoxSimulator
from gateways.simulators.keba_modbus_station import KebaModbusStation
from gateways.simulators.keba_station import KebaStationModel, Vehicle
from gateways.simulators.keba_udp_station import KebaUdpStation
from gateways.simulators.ocpp_station import OcppStation, OcppVehicle, StationQuirks

log = logging.getLogger("gateways.simulators")


def parser() -> argparse.ArgumentParser:
    """The command line."""
    root = argparse.ArgumentParser(prog="python -m gateways.simulators", description=__doc__)
    kinds = root.add_subparsers(dest="kind", required=True)
    udp = kinds.add_parser("keba-udp", help="KEBA P20/P30 UDP station")
    udp.add_argument("--bind", required=True, help="the station's IP, e.g. 127.0.0.2 (one address per station)")
    udp.add_argument("--port", type=int, default=KEBA_UDP_PORT, help=f"UDP port (default {KEBA_UDP_PORT})")
    modbus = kinds.add_parser("keba-modbus", help="KEBA P30 x-series / P40 Modbus TCP station")
    modbus.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    modbus.add_argument("--port", type=int, required=True, help="TCP port (KEBA uses 502)")
    ocpp = kinds.add_parser("ocpp", help="OCPP 1.6J charge point (Smart Charging) dialing in to the agent")
    ocpp.add_argument("--url", required=True, help="the agent's central system, e.g. ws://127.0.0.1:8887")
    ocpp.add_argument("--id", required=True, help="the charge point identity (the charger's charge_point_id)")
    ocpp.add_argument("--password", default=None, help="HTTP Basic password, if the charger has one configured")
    ocpp.add_argument("--connector", type=int, default=1, help="connector id (default 1)")
    ocpp.add_argument("--max-stack-level", type=int, default=3, help="ChargeProfileMaxStackLevel (default 3)")
    box = kinds.add_parser("control-box", help="grid operator's control box (section 14a) as one Modbus TCP bit")
    box.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    box.add_argument("--port", type=int, required=True, help="TCP port (I/O modules use 502)")
    box.add_argument("--unit-id", type=int, default=1, help="unit id (default 1)")
    box.add_argument("--address", type=int, default=0, help="0-based coil/discrete input address (default 0)")
    box.add_argument("--active", type=int, choices=(0, 1), default=1, help="bit value meaning dimmed (default 1)")
    box.add_argument("--dimmed", action="store_true", help="start dimmed; SIGUSR1 switches the signal")
    for sub in (udp, modbus, ocpp):
        sub.add_argument("--unplugged", action="store_true", help="start without a vehicle")
        sub.add_argument("--vehicle-a", type=float, default=16.0, help="the vehicle's maximum current (default 16 A)")
        sub.add_argument("--phases", type=int, choices=(1, 2, 3), default=3, help="the vehicle's phases (default 3)")
        sub.add_argument("--hardware-max-a", type=float, default=32.0, help="the station's own limit (default 32 A)")
    return root


async def run(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM."""
    if args.kind == "ocpp":
        charge_point = OcppStation(args.url, args.id, password=args.password, connector_id=args.connector,
                              quirks=StationQuirks(max_stack_level=args.max_stack_level,
                                                   hardware_max_a=args.hardware_max_a))
        if not args.unplugged:
            charge_point.plug_in(OcppVehicle(max_current_a=args.vehicle_a, phases=args.phases))
        await charge_point.start()
        log.info("simulated OCPP 1.6J charge point %s dialing in to %s; Ctrl-C to stop", args.id, args.url)
        await _until_signalled()
        await charge_point.close()
        return
    if args.kind == "control-box":
        await run_control_box(args)
        return
    model = KebaStationModel(hardware_max_ma=round(args.hardware_max_a * 1000))
    if not args.unplugged:
        model.plug_in(Vehicle(max_current_a=args.vehicle_a, phases=args.phases))
    station: KebaUdpStation | KebaModbusStation
    if args.kind == "keba-udp":
        station = KebaUdpStation(args.bind, args.port, model=model)
    else:
        station = KebaModbusStation(args.bind, args.port, model=model)
    await station.start()
    log.info("simulated %s station on %s:%s; Ctrl-C to stop", args.kind, args.bind, station.port)
    try:
        await _until_signalled()
    finally:
        await station.close()


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_control_box(args: argparse.Namespace) -> None:
    """Serve the control box until SIGINT or SIGTERM; SIGUSR1 switches its signal."""
    box = ControlBoxSimulator(host=args.bind, port=args.port, unit_id=args.unit_id, address=args.address,
                              active=args.active)
    box.set_dimmed(args.dimmed)
    await box.start()

    def switch() -> None:
        box.set_dimmed(not box.dimmed)
        log.info("control box: %s", "dimmed" if box.dimmed else "not dimmed")

    log.info("simulated control box on %s:%s (%s); kill -USR1 to switch; Ctrl-C to stop", args.bind, box.port,
             "dimmed" if box.dimmed else "not dimmed")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig, handler in ((signal.SIGINT, stop.set), (signal.SIGTERM, stop.set), (signal.SIGUSR1, switch)):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, handler)
    try:
        await stop.wait()
    finally:
        await box.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        asyncio.run(run(args))
    except OSError as error:
        log.error("cannot listen on %s:%s: %s", getattr(args, "bind", "?"), getattr(args, "port", "?"), error)
        return 3
    return 0
