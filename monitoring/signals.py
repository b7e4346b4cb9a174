"""What monitoring's rooms announce to whoever listens (monitoring.notify), so ingest need not know them.

Sent inside the transaction that stores the row: a receiver may only write (its outbox rows commit
or roll back with the alert or hand) and defer anything that leaves the process to
`transaction.on_commit`. Imports only Django, so every room may send them.
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: raised, a list of (alert, session) pairs: each stored Alert with its ExamSession (exam and
# user loaded). One ingest batch sends all its alerts at once, so a receiver reads its settings once.
alerts_raised = Signal()
# kwargs: hand (the stored RaisedHand), session (its ExamSession, with user loaded)
hand_raised = Signal()
