"""Running ExamPulse out of process, for the tests and the benchmarks alike (servers.py), and the
fake LMS platform they launch into it (lti_platform.py).

Standard library only, and nothing of the project's own: the load tool imports it before it sets
Django up (import-linter: launcher-is-stdlib-only). Neither tests nor benchmarks own it, so the
benchmarks import nothing from tests/ (import-linter: benchmarks-stand-apart-from-tests).
"""
