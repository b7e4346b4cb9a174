"""The demo: /demo/ student pages served when EXAMPULSE_DEMO is on, and the seeded demo history."""
