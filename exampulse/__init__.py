"""The project package, in two roles.

Wiring, on top: `settings`, `urls`, `asgi` and `ws_routing` assemble the apps into one site; no
app imports them (import-linter: apps-do-not-import-wiring).

Platform, underneath: the `platform` subpackage holds the plumbing every app may use; it imports
no app and no wiring (import-linter: platform-imports-no-app).
"""
