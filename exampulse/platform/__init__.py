"""The platform every app may use: `api` (the REST envelope), `errors`, `db` (database hops from
async code), `cache`, `channel_layer`, `ws_origin`, `ws_server`, `health`, `middleware` and
`json_limits`. It imports no app and none of the wiring above it (import-linter:
platform-imports-no-app, over the whole package, so a module added here is covered too).
"""
