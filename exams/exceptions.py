"""Domain errors of exams and sessions: a stable `code` for clients, a message a person can act on."""

from __future__ import annotations

from exampulse.platform.errors import Conflict, DomainError, Forbidden, NotFound


class ExamNotFound(NotFound):
    code = "exam_not_found"
    default_message = "Exam not found."


class SessionNotFound(NotFound):
    code = "session_not_found"
    default_message = "Exam session not found."


class ExamNotOpen(Conflict):
    code = "exam_not_open"
    default_message = "This exam is not open for taking."


class _Coded(DomainError):
    """REST's `{"error", "details"}` envelope carries no code, so details does (the socket frame has both)."""

    def __init__(self, message: str | None = None, *, details: dict | None = None) -> None:
        super().__init__(message, details={"code": self.code, **(details or {})})


class ExamNotYours(_Coded, Forbidden):
    """One rule for changing and deleting an exam (exams.scoping.may_change_exam)."""

    code = "exam_not_yours"
    default_message = "Only the exam's creator, the staff of its course, or a superuser can change or delete it."


class ExamNotAllowed(DomainError):
    status_code = 403
    code = "exam_not_allowed"
    default_message = "Only students can take exams."


class SessionNotStarted(Conflict):
    code = "session_not_started"
    default_message = "You have not started this exam. Start it first."


class SessionMoveRefused(_Coded, Conflict):
    """A move the session's state does not allow (the table in exams.statuses): a 409 whose
    details carry the code, and over the socket an `error` frame with it."""

    code = "session_move_refused"
    default_message = "This exam session cannot make that change in its current state."


class SessionNotActive(SessionMoveRefused):
    code = "session_not_active"
    default_message = "This exam session has ended; it can no longer be changed."


class SessionAlreadySubmitted(Conflict):
    code = "session_already_submitted"
    default_message = "You have already completed this exam; an exam can be taken once."


class ExamHasSessions(Conflict):
    code = "exam_has_sessions"
    default_message = "Students have already taken this exam."


class ReviewNoteRequired(DomainError):
    status_code = 400
    code = "note_required"
    default_message = "Say why: a note is required for a suspicious or violation outcome."


class InvalidAnswers(DomainError):
    status_code = 400
    code = "invalid_answers"
    default_message = "The answers do not match this exam's questions."


class CourseNotFound(NotFound):
    code = "course_not_found"
    default_message = "Course not found."


class CourseCodeTaken(Conflict):
    code = "course_code_taken"
    default_message = "A course with this code already exists."


class CourseNeedsStaff(Conflict):
    code = "course_needs_staff"
    default_message = "A course keeps at least one staff member: add another before removing this one."


class NotOnRoster(NotFound):
    code = "not_on_roster"
    default_message = "That user is not on this course's list."


class SessionPaused(SessionMoveRefused):
    code = "session_paused"
    default_message = "A proctor has paused this exam session; wait for them to resume it."


class SessionNotPaused(SessionMoveRefused):
    code = "session_not_paused"
    default_message = "This exam session is not paused, so it cannot be resumed."


class SessionAlreadyPaused(SessionMoveRefused):
    code = "session_already_paused"
    default_message = "This exam session is already paused."


class SessionAlreadyVoided(_Coded, Conflict):
    code = "session_already_voided"
    default_message = "This attempt has already been reset."


class SessionNotFinished(Conflict):
    code = "session_not_finished"
    default_message = "This exam session is still in progress; grade it once it has been submitted."


class SessionVoidedNotGradable(Conflict):
    code = "session_voided"
    default_message = "This attempt was reset; it has no result to grade."


class InvalidScores(DomainError):
    status_code = 400
    code = "invalid_scores"
    default_message = "Some scores cannot be given: see details, by question id."


# --- review: reasons, verdicts, second review ------------------------------------------------------


class InvalidReason(_Coded):
    status_code = 400
    code = "invalid_reason"
    default_message = "Unknown reason_code: choose one from GET /api/incident-reasons."


class ReasonRequired(_Coded):
    status_code = 400
    code = "reason_required"
    default_message = "A reason_code from GET /api/incident-reasons is required."


class SecondReviewNotRequired(_Coded):
    status_code = 409
    code = "second_review_not_required"
    default_message = "This session is not waiting for a second review."


class SameReviewer(_Coded):
    status_code = 403
    code = "same_reviewer"
    default_message = "A second review must come from a different proctor than the one who gave the verdict."


class VerdictAwaitingSecondReview(_Coded):
    status_code = 409
    code = "second_review_pending"
    default_message = "This violation verdict is waiting for a second look: confirm or overturn it with second-review."


class VerdictConfirmed(_Coded):
    status_code = 409
    code = "verdict_confirmed"
    default_message = "Two proctors have confirmed this violation; the verdict is final."
