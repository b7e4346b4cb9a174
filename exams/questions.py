"""The exam questions schema, validated in one place, plus grading and the student-safe view.

`Exam.questions` is a JSON list; each question is an object:

    {"id": "q1",                      # unique in the exam; a string (integers are turned into strings)
     "text": "2 + 2 = ?",             # required, at most 5,000 characters
     "type": "mcq",                   # mcq (one choice) | multi (several choices) | short (free text)
     "options": ["3", "4", "5"],      # mcq/multi: 2-20 distinct strings; short: omitted or []
     "answer": "4",                   # mcq: one of the options; multi: a non-empty list of options;
                                      # short: optional reference text for the proctor, never graded
     "points": 1}                     # optional, default 1; a number > 0 and <= 1000

A student's answers are a JSON object keyed by question id: mcq → one option string, multi → a
list of option strings, short → text; `null` means unanswered. mcq and multi are graded by the
server (multi: all or nothing, order ignored); short answers wait for a proctor.
`answer` never leaves the server in anything a student receives (see `student_view`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

QUESTION_TYPES = ("mcq", "multi", "short")
GRADED_TYPES = ("mcq", "multi")
ALLOWED_KEYS = {"id", "text", "type", "options", "answer", "points"}
MAX_QUESTIONS = 500
MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 5000
MAX_OPTIONS = 20
MAX_OPTION_LENGTH = 1000
MAX_POINTS = 1000
MAX_SHORT_ANSWER_LENGTH = 20000
# The keys a student may see; `answer` is deliberately absent.
STUDENT_KEYS = ("id", "text", "type", "options", "points")


def _fail(index: int, message: str) -> ValidationError:
    return ValidationError({"questions": [f"Question {index + 1}: {message}"]})


def _question_id(raw: Any, index: int) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _fail(index, "id must be a string or an integer.")
    qid = str(raw).strip()
    if not qid or len(qid) > MAX_ID_LENGTH:
        raise _fail(index, f"id must be 1 to {MAX_ID_LENGTH} characters.")
    return qid


def _points(raw: Any, index: int) -> float | int:
    if raw is None:
        return 1
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:  # raw != raw: NaN
        raise _fail(index, "points must be a number.")
    if not 0 < raw <= MAX_POINTS:
        raise _fail(index, f"points must be greater than 0 and at most {MAX_POINTS}.")
    return raw


def _options(raw: Any, qtype: str, index: int) -> list[str]:
    if qtype == "short":
        if raw not in (None, []):
            raise _fail(index, "a short question has no options.")
        return []
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_OPTIONS:
        raise _fail(index, f"options must be a list of 2 to {MAX_OPTIONS} choices.")
    if not all(isinstance(o, str) and o.strip() != "" and len(o) <= MAX_OPTION_LENGTH for o in raw):
        raise _fail(index, f"each option must be non-empty text of at most {MAX_OPTION_LENGTH} characters.")
    if len(set(raw)) != len(raw):
        raise _fail(index, "options must be distinct.")
    return list(raw)


def _answer(raw: Any, qtype: str, options: list[str], index: int) -> Any:
    if qtype == "mcq":
        if not isinstance(raw, str) or raw not in options:
            raise _fail(index, "answer of an mcq question must be one of its options.")
        return raw
    if qtype == "multi":
        if not isinstance(raw, list) or not raw or not all(isinstance(a, str) and a in options for a in raw):
            raise _fail(index, "answer of a multi question must be a non-empty list of its options.")
        return sorted(set(raw))
    if raw is None:
        return ""
    if not isinstance(raw, str) or len(raw) > MAX_TEXT_LENGTH:
        raise _fail(index, f"answer of a short question must be text of at most {MAX_TEXT_LENGTH} characters.")
    return raw


def validate_questions(value: Any) -> list[dict[str, Any]]:
    """Return the normalised questions list or raise ValidationError naming the bad question."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError({"questions": ["questions must be a list of question objects."]})
    if len(value) > MAX_QUESTIONS:
        raise ValidationError({"questions": [f"An exam has at most {MAX_QUESTIONS} questions."]})
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, question in enumerate(value):
        if not isinstance(question, dict):
            raise _fail(index, "must be an object.")
        unknown = set(question) - ALLOWED_KEYS
        if unknown:
            raise _fail(index, f"unknown keys {', '.join(sorted(map(str, unknown)))}.")
        qid = _question_id(question.get("id"), index)
        if qid in seen:
            raise _fail(index, f"id {qid!r} is used twice.")
        seen.add(qid)
        text = question.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
            raise _fail(index, f"text must be non-empty text of at most {MAX_TEXT_LENGTH} characters.")
        qtype = question.get("type")
        if qtype not in QUESTION_TYPES:
            raise _fail(index, f"type must be one of {', '.join(QUESTION_TYPES)}.")
        options = _options(question.get("options"), qtype, index)
        clean.append(
            {
                "id": qid,
                "text": text,
                "type": qtype,
                "options": options,
                "answer": _answer(question.get("answer"), qtype, options, index),
                "points": _points(question.get("points"), index),
            }
        )
    return clean


def student_view(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions as a student may see them: every key but the answer."""
    return [{key: q.get(key) for key in STUDENT_KEYS} for q in questions]


def validate_answers(value: Any, questions: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Check a student's answers against the questions; return (clean answers, errors by question id)."""
    if not isinstance(value, dict):
        return {}, {"answers": "answers must be an object keyed by question id."}
    by_id = {q["id"]: q for q in questions}
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for qid, given in value.items():
        question = by_id.get(str(qid))
        if question is None:
            errors[str(qid)[:MAX_ID_LENGTH]] = "no such question in this exam."
            continue
        if given is None:
            clean[question["id"]] = None
            continue
        if question["type"] == "mcq":
            if not isinstance(given, str) or given not in question["options"]:
                errors[question["id"]] = "choose one of the question's options."
                continue
        elif question["type"] == "multi":
            if not isinstance(given, list) or not all(isinstance(g, str) and g in question["options"] for g in given):
                errors[question["id"]] = "give a list of the question's options."
                continue
            given = sorted(set(given))
        elif not isinstance(given, str) or len(given) > MAX_SHORT_ANSWER_LENGTH:
            errors[question["id"]] = f"give text of at most {MAX_SHORT_ANSWER_LENGTH} characters."
            continue
        clean[question["id"]] = given
    return clean, errors


def grade(questions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """Grade mcq and multi questions (multi all-or-nothing); short ones are left for a proctor."""
    score: float = 0
    max_score: float = 0
    pending_points: float = 0
    per_question: dict[str, dict[str, Any]] = {}
    for question in questions:
        points = question.get("points", 1)
        max_score += points
        given = answers.get(question["id"])
        if question["type"] not in GRADED_TYPES:
            pending_points += points
            per_question[question["id"]] = {"correct": None, "awarded": None, "points": points}
            continue
        if question["type"] == "mcq":
            correct = given == question["answer"]
        else:
            correct = isinstance(given, list) and sorted(set(given)) == sorted(set(question["answer"]))
        awarded = points if correct else 0
        score += awarded
        per_question[question["id"]] = {"correct": correct, "awarded": awarded, "points": points}
    return {
        "score": score,
        "max_score": max_score,
        "pending_manual_points": pending_points,
        "per_question": per_question,
    }


# Grading status values (exams.models.GradingStatus), kept as plain strings so the data migration
# can call `grading_status_of` without the model.
GRADING_AUTO = "auto"
GRADING_PENDING = "pending"
GRADING_COMPLETE = "complete"


def short_questions(questions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The exam's short (proctor-graded) questions by id, in exam order."""
    return {q["id"]: q for q in questions if q.get("type") == "short"}


def grading_status_of(questions: list[dict[str, Any]], grading: dict[str, Any] | None) -> str:
    """auto when the exam has no short questions; pending until each has awarded points; then complete."""
    shorts = short_questions(questions)
    if not shorts:
        return GRADING_AUTO
    per_question = (grading or {}).get("per_question") or {}
    graded = all(
        isinstance(per_question.get(qid), dict) and _is_points(per_question[qid].get("awarded")) for qid in shorts
    )
    return GRADING_COMPLETE if graded else GRADING_PENDING


def _is_points(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value == value


def manual_scores_errors(questions: list[dict[str, Any]], scores: Any) -> dict[str, str]:
    """Why these proctor scores cannot be applied, by question id (empty: they can).

    Only short questions take proctor points; each must be a number (no bool, NaN or infinity)
    from 0 to the question's points.
    """
    if not isinstance(scores, dict) or not scores:
        return {"scores": "give points for at least one short question, keyed by question id."}
    shorts = short_questions(questions)
    known = {q["id"] for q in questions}
    errors: dict[str, str] = {}
    for raw_qid, points in scores.items():
        qid = str(raw_qid)[:MAX_ID_LENGTH]
        if qid not in known:
            errors[qid] = "no such question in this exam."
        elif qid not in shorts:
            errors[qid] = "only short questions are graded by a proctor; this one is graded automatically."
        elif not _is_points(points) or points in (float("inf"), float("-inf")):
            errors[qid] = "points must be a number."
        elif not 0 <= points <= shorts[qid].get("points", 1):
            errors[qid] = f"points must be from 0 to {shorts[qid].get('points', 1)}."
    return errors


def apply_manual_scores(
    questions: list[dict[str, Any]],
    grading: dict[str, Any] | None,
    scores: dict[str, float],
    *,
    answers: dict[str, Any],
    by: dict[str, Any],
    at: str,
) -> dict[str, Any]:
    """A new grading dict with these (already validated) proctor points, score and pending points recomputed.

    Each graded short question records its points, who gave them and when; a regrade keeps the
    earlier points under `history`. The score is the auto-graded points plus the proctor points.
    """
    base = dict(grading or {})
    if "per_question" not in base:
        # A session finished before grading was stored: grade its automatic part from its answers first.
        base = grade(questions, answers or {})
    per_question = {qid: dict(entry) for qid, entry in (base.get("per_question") or {}).items()}
    for qid, points in scores.items():
        question = short_questions(questions)[qid]
        entry = per_question.get(qid) or {"correct": None, "awarded": None, "points": question.get("points", 1)}
        if _is_points(entry.get("awarded")):
            earlier = {key: entry.get(key) for key in ("awarded", "graded_by", "graded_at")}
            entry["history"] = [*entry.get("history", []), earlier]
        entry.update({"awarded": points, "graded_by": by, "graded_at": at, "manual": True})
        per_question[qid] = entry
    score: float = 0
    pending: float = 0
    max_score: float = 0
    for question in questions:
        entry = per_question.get(question["id"]) or {}
        points = question.get("points", 1)
        max_score += points
        if _is_points(entry.get("awarded")):
            score += entry["awarded"]
        elif question.get("type") == "short":
            pending += points
    return {
        **base,
        "score": score,
        "max_score": max_score,
        "pending_manual_points": pending,
        "per_question": per_question,
    }
