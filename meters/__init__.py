"""FuseGuard meters: catalog of house-connection meters, decoding, async Modbus TCP reading.

Imports only pymodbus and the standard library (never Django).
"""
