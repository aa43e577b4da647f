"""The on-site agent: polls the meter, balances, sets the chargers. Never imports Django."""
