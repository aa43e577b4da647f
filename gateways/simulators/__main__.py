"""`python -m gateways.simulators`: see gateways.simulators.cli."""

import sys

from gateways.simulators.cli import main

sys.exit(main())
