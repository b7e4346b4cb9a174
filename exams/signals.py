"""Signals the live side listens to: the one back-channel from exams to monitoring.

`session_submitted`, `session_terminated` and `access_revoked` are sent from `transaction.on_commit`, after the state
change is durable, so a receiver never broadcasts a submit, a termination or a revocation that
later rolls back.
`session_flagged` and `second_review_required` are sent inside the transaction that makes the
change: their receivers only store outbox rows (webhook deliveries), which then commit or roll back
with it, and defer anything that leaves the process to `transaction.on_commit`. A process that dies
right after the commit has therefore lost no notification.
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
# The webhooks side turns it into a `second_review_required` delivery in the same transaction.
second_review_required = Signal()
# kwargs: user_id (int), exam_ids (list[int]): that user may no longer see these exams (taken off a
# course's roster or staff, or the exam left their course). Sent from `transaction.on_commit`
# (exams.access), so the live side ends the user's streams of those exams only for a committed change.
access_revoked = Signal()
