"""A watcher's state as viewers read it (SPEC §16): the JSON on the wire and the client.

Neither headless nor UI: `watch` encodes, `check --from` and `tui --from` decode. Decoding
imports only the pure core, so `check --from` starts fast.
"""
