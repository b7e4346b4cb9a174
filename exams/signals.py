"""Signals the live side listens to: the one back-channel from exams to monitoring.

Both are sent from `transaction.on_commit`, after the state change is durable, so a receiver
never broadcasts a submit or termination that later rolls back.
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: session (the ExamSession, already submitted or flagged)
session_submitted = Signal()
# kwargs: session, by (the proctor User), reason (str)
session_terminated = Signal()
# kwargs: session (its status just became flagged: unresolved high-risk alerts at submit, or terminated)
session_flagged = Signal()
# kwargs: session, by (the proctor whose violation verdict requires a second review)
second_review_required = Signal()
