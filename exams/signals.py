"""Signals the live side listens to: the one back-channel from exams to monitoring.

All are sent from `transaction.on_commit`, after the state change is durable, so a receiver
never broadcasts a submit, termination or verdict that later rolls back.
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: session (the ExamSession, already submitted or flagged)
session_submitted = Signal()
# kwargs: session, by (the proctor User), reason (str), reason_code (a code of exams.reasons)
session_terminated = Signal()
# kwargs: session (its status just became flagged: unresolved high-risk alerts at submit, or terminated)
session_flagged = Signal()
# kwargs: session (a violation verdict now waits for a different proctor), by (who gave the verdict).
# Sent on commit; the webhooks side turns it into a `second_review_required` delivery.
second_review_required = Signal()
