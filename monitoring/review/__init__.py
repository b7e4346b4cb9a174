"""What proctors read: the admin review console and the live dashboard pages.

`console` (the Django admin's sessions, events, alerts and audit views; monitoring/admin.py only
imports it), `selectors` (timelines, risk series, CSV rows: reads only), `charts` (server-rendered
SVG) and `views`/`urls` (the /monitor/ dashboard pages). Writes go through `monitoring.ingest` and
the exams app (exams.sessions, exams.grading, exams.reviews).
"""
