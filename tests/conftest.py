"""Fixtures shared by the whole suite."""

import os

from hypothesis import settings as hypothesis_settings

# CI machines are shared and slow: property tests run a fixed number of
# examples without per-example deadlines, so timing noise never fails them.
hypothesis_settings.register_profile("ci", max_examples=100, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", max_examples=50, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
