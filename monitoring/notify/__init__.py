"""Notifications: webhooks and alert emails, sent by a worker from a stored outbox.

`outbox` (the retry schedule and the claim shared by both kinds), `webhooks` (store, sign, send one
attempt), `email` (the course staff's alert email), `tasks` (the django-tasks tasks the `db_worker`
runs, and the after-commit enqueue), `receivers` (monitoring's and exams' signals → outbox rows) and
`admin`. Nothing here runs on the ingest path but an INSERT: the network is the worker's. No room
imports notify, and notify imports no room (.importlinter); `monitoring.apps` connects the receivers.
Their models (`models`) are registered through monitoring/models.py, the one import of notify from outside it.
"""
