"""The agent's OCPP 1.6J central system: the endpoint chargers dial in to, and what it keeps per charge point.

Protocol facts here, in `gateways.chargers.ocpp16` and in the simulator cite
these Open Charge Alliance documents by section and printed page:

- "OCPP 1.6 ed. 2": Open Charge Point Protocol 1.6, edition 2, FINAL 2017-09-28.
- "errata v4.0": OCPP 1.6 Errata sheet, v4.0 Release 2019-10-23 (for 1.6 edition 2).
- "OCPP-J 1.6": Open Charge Point Protocol JSON 1.6, OCPP-J 1.6 Specification, 1.6, 2015-10-08.
- "security white paper ed. 3": Improved security for OCPP 1.6-J, edition 3 FINAL 2022-02-17
  (replaces edition 2; it changed only the certificate hash fields).
"""
