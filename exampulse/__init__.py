"""The project package, in two roles.

Wiring, on top: `settings`, `urls`, `asgi` and `ws_routing` assemble the apps into one site; no
app imports them (import-linter: apps-do-not-import-wiring).

Platform, underneath: `api` (the REST envelope), `errors`, `db` (database hops from async code),
`cache`, `channel_layer`, `ws_origin`, `ws_server`, `health`, `middleware` and `json_limits` are
the plumbing every app may use; they import no app (import-linter: platform-imports-no-app).
"""
