"""Storing behavioural events and what follows from them: risk, alerts, warnings.

`activity` (what an event payload may say: socket and REST share it), `services` (events_ingest,
alert_raise/resolve, proctor_warn: the state changes, each returning the pushes it implies), `risk`
(the one bridge to the pure `scoring` library), `severity` (an event's severity by type and exam
policy) and `apis` (the REST batch endpoint: the same ingestion as the socket). Imports neither
`monitoring.live` nor `monitoring.review` (.importlinter).
"""
