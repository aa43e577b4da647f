"""Simulated devices the gateway talks to, on real sockets: for tests, the demo, and trying the agent without hardware."""
