"""A fleet load simulator: thousands of light gateways speaking the real sync protocol to a fleet server.

Each simulated gateway fetches its config with its ETag, records numbered
samples at the config's poll interval (made in one go at upload time, with
the timestamps they would have had), uploads them in batches at the upload
interval, keeps what the server has not acknowledged and sends it again after
an error or a timeout, and now and then loses and regains its meter. It has
no meters, chargers or disk: it is load, not an agent. It targets loopback
only and stops by itself.

    python -m gateways.fleetsim --server http://127.0.0.1:8000 --tokens tokens.txt --duration 600

Modules: `gateway` (one gateway's numbering, recording and acknowledgement,
no I/O), `session` (its HTTP conversation), `stats` (what the uploads did),
`runner` (many gateways in one or several processes), `__main__` (the
command line). Never imports Django.
"""
