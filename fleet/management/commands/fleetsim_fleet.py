"""`manage.py fleetsim_fleet create N --prefix P --tokens FILE` / `remove --prefix P`: the load simulator's fleet.

`create` makes N sites (one organisation per 100) with a gateway, a network, a
meter and one or two chargers each, and writes the gateways' tokens to FILE
(one a line, readable by the owner only) for `python -m gateways.fleetsim`.
`remove` deletes that fleet again, telemetry included. Exit status 1 when
refused (bad or taken prefix).
"""

import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fleet.services.simulated_fleet import FleetPrefixInvalid, simulated_fleet_create, simulated_fleet_remove


class Command(BaseCommand):
    """Create or remove the fleet the load simulator drives."""

    help = "Create N simulated sites and write their gateway tokens to a file, or remove them again."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create N sites with gateways and write the tokens")
        create.add_argument("count", type=int, metavar="N")
        create.add_argument("--prefix", required=True, help="names this fleet (lowercase slug, e.g. fs10k)")
        create.add_argument("--tokens", required=True, type=Path, help="file to write the tokens to, one a line")
        remove = actions.add_parser("remove", help="remove the fleet with this prefix, telemetry included")
        remove.add_argument("--prefix", required=True)

    def handle(self, *args, action: str, prefix: str, **options) -> None:
        began = time.perf_counter()
        try:
            if action == "create":
                fleet = simulated_fleet_create(options["count"], prefix)
                path: Path = options["tokens"]
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w") as tokens:
                    tokens.write("".join(f"{token}\n" for token in fleet.tokens))
                self.stderr.write(
                    f"Created {fleet.sites} sites in {fleet.organizations} organisations with {fleet.chargers} chargers "
                    f"in {time.perf_counter() - began:.1f} s; tokens in {path}", style_func=self.style.SUCCESS)
            else:
                removed = simulated_fleet_remove(prefix)
                self.stderr.write(f"Removed {removed} sites in {time.perf_counter() - began:.1f} s",
                                  style_func=self.style.SUCCESS)
        except (FleetPrefixInvalid, ValueError) as problem:
            raise CommandError(str(problem), returncode=1) from None
