"""Storing behavioural events and what follows from them: risk, alerts, warnings.

`services` (events_ingest, alert_raise/resolve, proctor_warn: the state changes), `risk` (the one
bridge to the pure `scoring` library), `severity` (an event's severity by type and exam policy) and
`apis` (the REST batch endpoint: the same ingestion as the socket).
"""
