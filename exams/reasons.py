"""The incident-reason taxonomy, after TAO's proctoring categories: a fixed list, one place.

Pure: no Django. Terminate, warn, pause and a suspicious/violation verdict name a `reason_code`
from here (REST, socket, admin, dashboard); the free text a proctor writes stays beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

CATEGORIES = ("environment", "behaviour", "identity", "technical", "other")
CATEGORY_LABELS = {
    "environment": "Environment",
    "behaviour": "Behaviour",
    "identity": "Identity",
    "technical": "Technical",
    "other": "Other",
}
# The code the server itself records when the exam's warning limit ends a session.
WARNING_LIMIT = "warning_limit"
MAX_CODE_LENGTH = 40


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    category: str


REASONS: tuple[Reason, ...] = (
    Reason("unauthorised_person", "Another person in the room", "environment"),
    Reason("notes_or_materials", "Notes, books or other materials in view", "environment"),
    Reason("second_screen", "A second screen or computer", "environment"),
    Reason("voices_or_noise", "Voices or noise in the room", "environment"),
    Reason("phone_use", "Phone or other device in use", "behaviour"),
    Reason("left_seat", "Left the seat or the camera's view", "behaviour"),
    Reason("talking", "Talking to someone", "behaviour"),
    Reason("looking_away", "Looking away from the screen repeatedly", "behaviour"),
    Reason("tab_switching", "Switching tabs or windows", "behaviour"),
    Reason("copy_paste", "Copying or pasting content", "behaviour"),
    Reason("unauthorised_software", "Unauthorised software or website", "behaviour"),
    Reason(WARNING_LIMIT, "Warning limit reached", "behaviour"),
    Reason("impersonation", "Someone else taking the exam", "identity"),
    Reason("id_mismatch", "ID does not match the student", "identity"),
    Reason("no_face", "Face not visible", "identity"),
    Reason("multiple_faces", "More than one face visible", "identity"),
    Reason("connection_lost", "Connection lost", "technical"),
    Reason("device_problem", "Device or browser problem", "technical"),
    Reason("camera_or_microphone_off", "Camera or microphone off", "technical"),
    Reason("other", "Other (say what in the note)", "other"),
)

BY_CODE: dict[str, Reason] = {reason.code: reason for reason in REASONS}
CODES: frozenset[str] = frozenset(BY_CODE)


def is_known(code: object) -> bool:
    """True for a code of the taxonomy (case-sensitive, no surrounding spaces)."""
    return isinstance(code, str) and code in CODES


def label(code: str) -> str:
    """The human label of a code; the code itself if unknown (an old row), '' for none."""
    reason = BY_CODE.get(code)
    return reason.label if reason else code


def as_json() -> list[dict[str, str]]:
    """Every reason as `{code, label, category}`, in taxonomy order (the API and the dashboard)."""
    return [asdict(reason) for reason in REASONS]


def grouped_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Form choices grouped by category, for a <select> with <optgroup>s."""
    return [
        (CATEGORY_LABELS[category], [(r.code, r.label) for r in REASONS if r.category == category])
        for category in CATEGORIES
    ]


def flat_choices() -> list[tuple[str, str]]:
    """(code, "Category · label") pairs, for a serializer enum or a list filter."""
    return [(r.code, f"{CATEGORY_LABELS[r.category]} · {r.label}") for r in REASONS]
