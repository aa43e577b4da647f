"""`python -m meters`: see meters.cli."""

import sys

from meters.cli import main

sys.exit(main())
