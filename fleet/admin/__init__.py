"""Operator admin: every class scopes to the signed-in user's organisations through fleet.admin.scoping."""

from fleet.admin import registrations  # noqa: F401  (registers the model admins)
from fleet.admin import alerts  # noqa: F401  (incidents, notification channels, deliveries)
