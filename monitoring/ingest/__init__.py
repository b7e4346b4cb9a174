"""Storing behavioural events and what follows from them: risk and alerts.

`activity` (what an event payload may say: socket and REST share it), `services` (events_ingest and
alert_raise: the state changes, each returning the pushes it implies), `risk` (the one door to the
pure `scoring` library: one call per event), `snapshots` (each process's copy of the sessions it
ingests for), `rows` (the batch's hand-built writes) and `apis` (the REST batch endpoint: the same
ingestion as the socket). Imports neither `monitoring.live`, `monitoring.review` nor
`monitoring.proctoring` (.importlinter).
"""
