"""The questions schema validator and the grader, as plain functions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from exams.questions import grade, student_view, validate_answers, validate_questions
from tests.exams.conftest import QUESTIONS


def test_valid_questions_are_normalised():
    clean = validate_questions(
        [{"id": 7, "text": "Pick", "type": "multi", "options": ["a", "b"], "answer": ["b", "a"]}]
    )
    assert clean == [
        {"id": "7", "text": "Pick", "type": "multi", "options": ["a", "b"], "answer": ["a", "b"], "points": 1}
    ]


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        ("not an object", "must be an object"),
        ({"text": "t", "type": "mcq", "options": ["a", "b"], "answer": "a"}, "id must be"),
        ({"id": "q", "text": "", "type": "mcq", "options": ["a", "b"], "answer": "a"}, "text must be"),
        ({"id": "q", "text": "t", "type": "essay", "options": [], "answer": ""}, "type must be"),
        ({"id": "q", "text": "t", "type": "mcq", "options": ["a"], "answer": "a"}, "options must be"),
        ({"id": "q", "text": "t", "type": "mcq", "options": ["a", "a"], "answer": "a"}, "distinct"),
        ({"id": "q", "text": "t", "type": "mcq", "options": ["a", "b"], "answer": "c"}, "one of its options"),
        ({"id": "q", "text": "t", "type": "multi", "options": ["a", "b"], "answer": []}, "non-empty list"),
        ({"id": "q", "text": "t", "type": "short", "options": ["a", "b"]}, "no options"),
        ({"id": "q", "text": "t", "type": "mcq", "options": ["a", "b"], "answer": "a", "points": 0}, "points"),
        ({"id": "q", "text": "t", "type": "mcq", "options": ["a", "b"], "answer": "a", "points": True}, "points"),
        ({"id": "q", "text": "t", "type": "mcq", "options": ["a", "b"], "answer": "a", "hint": "x"}, "unknown keys"),
        ({"id": "q", "text": "x" * 5001, "type": "short"}, "text must be"),
    ],
)
def test_each_malformed_question_is_refused_with_a_reason(question, fragment):
    with pytest.raises(ValidationError) as caught:
        validate_questions([question])
    assert fragment in str(caught.value)
    assert "Question 1" in str(caught.value)


def test_duplicate_question_ids_are_refused():
    question = {"id": "q", "text": "t", "type": "short"}
    with pytest.raises(ValidationError, match="used twice"):
        validate_questions([question, dict(question)])


def test_questions_must_be_a_list():
    with pytest.raises(ValidationError, match="must be a list"):
        validate_questions({"id": "q"})


def test_student_view_drops_every_answer():
    view = student_view(validate_questions(QUESTIONS))
    assert all("answer" not in question for question in view)
    assert [q["id"] for q in view] == ["q1", "q2", "q3"]


def test_grading_scores_mcq_and_multi_all_or_nothing_and_leaves_short_answers_pending():
    questions = validate_questions(QUESTIONS)
    result = grade(questions, {"q1": "4", "q2": ["5", "2"], "q3": "heat"})
    assert (result["score"], result["max_score"], result["pending_manual_points"]) == (3, 6, 3)
    partial = grade(questions, {"q1": "3", "q2": ["2"]})
    assert partial["score"] == 0
    assert partial["per_question"]["q2"] == {"correct": False, "awarded": 0, "points": 2}


def test_answers_are_checked_against_the_questions():
    questions = validate_questions(QUESTIONS)
    clean, errors = validate_answers({"q1": "4", "q2": ["9", "2", "2"], "q3": None}, questions)
    assert errors == {}
    assert clean == {"q1": "4", "q2": ["2", "9"], "q3": None}
    _, errors = validate_answers({"q1": "7", "q2": "2", "zz": "a", "q3": 5}, questions)
    assert set(errors) == {"q1", "q2", "zz", "q3"}
