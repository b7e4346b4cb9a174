"""What a proctor does to a running session: time control, raised hands, warnings, alert resolution.

`timecontrol` (extend, pause, resume, reset) and its REST views `timecontrol_apis`, `hands` (a
student raises a hand, a proctor answers), `warning` (a warning to the student, and the warning
limit) and `alerts` (resolving an alert). Each service runs in one transaction, records the action
on the session's timeline (a technical event, never scored) or in the audit trail, and returns the
pushes its change implies (monitoring.pushes) without sending them. They refuse with domain errors
(exampulse.errors), which REST maps to 4xx and the socket consumer to `error` frames, each with its
code. Called by `monitoring.live` (the socket) and `monitoring.review` (the admin); imports neither,
nor `monitoring.ingest` (.importlinter).
"""
