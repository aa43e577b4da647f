"""The gateway sync API under /api/gateway/v1/: config down, telemetry up, gateway token auth."""
