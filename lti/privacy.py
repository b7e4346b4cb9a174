"""The LTI tables in the registry of student data (monitoring.privacy.STUDENT_DATA): what erasure of a
student's behavioural data does with each, and why."""

from __future__ import annotations

from monitoring.privacy import STUDENT_DATA, Kept

LTI_STUDENT_DATA = {
    "lti_tool.LtiUser": Kept(
        "the LMS identity (issuer, sub) linked to the account, and the name and email the LMS sent: "
        "it lets the next launch find the account; closed with the account, not with behaviour"
    ),
    "lti.ExamLink": Kept("an LMS link bound to an exam; linked to users only through the staff member who bound it"),
    "lti.ScoreDelivery": Kept(
        "the score sent to the LMS gradebook (score, maximum, the learner's LMS id): the result, kept like the "
        "session's score; it holds no behaviour"
    ),
}


def register_student_data() -> None:
    STUDENT_DATA.update(LTI_STUDENT_DATA)
