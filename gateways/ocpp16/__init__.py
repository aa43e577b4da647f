"""The agent's OCPP 1.6J central system: the endpoint chargers dial in to, and what it keeps per charge point."""
