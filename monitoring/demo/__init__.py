"""The demo, in one place: the /demo/ student pages (views, urls, templates/, static/ — served
only when EXAMPULSE_DEMO is on), the demo accounts and exams (seed.py, `manage.py seed_demo`) and the
seeded history of past sessions (`manage.py seed_demo_activity`).

A Django app of its own (monitoring.demo, label `demo`, no models) so that its commands, templates
and static files live beside its code. Nothing imports it but the URL wiring (import-linter:
nothing-imports-the-demo); it imports neither the live socket nor the review console.
"""
