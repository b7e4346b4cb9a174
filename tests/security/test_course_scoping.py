"""Course scoping, every route: actors x (course exam, open exam) over REST, the socket, the admin, the dashboard.

Actors: a student enrolled in the course, a student who is not, a proctor on the course's staff,
a proctor who staffs another course, a superuser. The exam's session belongs to the enrolled
student. A miss is a 404 over REST (never 403) and `exam_not_found`/`session_not_found` over the
socket, exactly like an id that does not exist. Rows are made with the ORM: there is no course API here.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.services import proctor_add_to_group
from exams.models import Course, CourseStaff, Enrollment
from exams.reviews import session_review
from exams.sessions import session_start
from monitoring.ingest.activity import parse_activity
from monitoring.ingest.services import IngestRequest, events_ingest
from monitoring.models import Alert
from scoring.services import baseline_add_sample
from tests.factories import ProctorFactory, StudentFactory
from tests.monitoring import conftest as live
from tests.monitoring.conftest import make_exam

ws_connect = live.ws_connect  # the socket fixture, shared with tests/monitoring
ACTORS = ("enrolled", "outsider", "staff", "non_staff", "superuser")
ANSWERS = {"answers": {"q1": "4"}}
EVENTS = {"events": [{"type": "tab_switch", "client_event_id": "m-1"}]}
SAMPLE = {"typing_speed_wpm": 40, "mouse_speed_pxs": 400, "avg_question_time_sec": 60, "tab_switch_rate": 0}
ACCOMMODATIONS = {"extra_time_pct": 25}
# Proctor-only endpoints: students are refused by role (403), a proctor off the staff finds nothing (404).
STAFF_ONLY = (403, 403, 200, 404, 200)
ANY_PROCTOR = (403, 403, 200, 200, 200)
SUPERUSER_ONLY = (403, 403, 403, 403, 200)


def _world(*, course_exam: bool) -> dict:
    """The course, its people, the exam under test (in the course or open) and the enrolled student's session."""
    course = Course.objects.create(code="CS101", name="Algorithms")
    other = Course.objects.create(code="PH200", name="Optics")
    people = {
        "enrolled": StudentFactory(),
        "outsider": StudentFactory(),
        "free": StudentFactory(),  # enrolled in no course
        "staff": ProctorFactory(),
        "non_staff": ProctorFactory(),
        "superuser": ProctorFactory(is_superuser=True),
    }
    Enrollment.objects.create(course=course, student=people["enrolled"])
    Enrollment.objects.create(course=other, student=people["outsider"])
    CourseStaff.objects.create(course=course, user=people["staff"])
    CourseStaff.objects.create(course=other, user=people["non_staff"])
    scope = course if course_exam else None
    exam = make_exam(people["staff"], course=scope)
    spare = make_exam(people["staff"], name="Spare", course=scope)
    session = session_start(exam=exam, user=people["enrolled"])
    alert = Alert.objects.create(session=session, alert_type="high_risk", message="m", risk_score=0.9)
    baseline_add_sample(user=people["enrolled"], sample=SAMPLE)
    baseline_add_sample(user=people["free"], sample=SAMPLE)
    # Users endpoints act on a student: one in the course (course variant), one in no course (open variant).
    target = people["enrolled"] if course_exam else people["free"]
    return {**people, "course": course, "exam": exam, "spare": spare, "session": session, "alert": alert,
            "target": target}  # fmt: skip


# -- REST ------------------------------------------------------------------------------------------

# (method, path, body, statuses for ACTORS on a course exam, statuses on an open exam)
REST = [
    ("get", "/api/exams/{exam}", None, (200, 404, 200, 404, 200), (200, 200, 200, 200, 200)),
    # Changing and deleting need the same (exams.scoping.may_change_exam): the creator (here the
    # staff member), the course's staff or a superuser; a visible open exam of another proctor is a 403.
    ("put", "/api/exams/{exam}", {"name": "R", "duration_minutes": 45}, STAFF_ONLY, (403, 403, 200, 403, 200)),
    ("patch", "/api/exams/{exam}", {"name": "R"}, STAFF_ONLY, (403, 403, 200, 403, 200)),
    ("delete", "/api/exams/{spare}", None, STAFF_ONLY, (403, 403, 200, 403, 200)),
    ("post", "/api/exams/{exam}/start", None, (200, 404, 403, 404, 403), (200, 201, 403, 403, 403)),
    ("post", "/api/exams/{exam}/submit", ANSWERS, (200, 404, 403, 403, 403), (200, 409, 403, 403, 403)),
    ("get", "/api/exams/sessions/{session}", None, (200, 404, 200, 404, 200), (200, 404, 200, 200, 200)),
    ("put", "/api/exams/sessions/{session}/answers", ANSWERS, (200, 404, 403, 403, 403), (200, 404, 403, 403, 403)),
    ("patch", "/api/exams/sessions/{session}/answers", ANSWERS, (200, 404, 403, 403, 403), (200, 404, 403, 403, 403)),
    ("post", "/api/exams/sessions/{session}/events", EVENTS, (200, 404, 403, 403, 403), (200, 404, 403, 403, 403)),
    ("post", "/api/exams/sessions/{session}/review", {"review_status": "clean", "note": "ok"},
     STAFF_ONLY, ANY_PROCTOR),
    ("post", "/api/exams/sessions/{session}/terminate", {"reason": "Phone.", "reason_code": "phone_use"},
     STAFF_ONLY, ANY_PROCTOR),
    # Institution-wide accommodations and baseline resets reach every course: superusers only.
    ("put", "/api/users/{target}/accommodations", ACCOMMODATIONS, SUPERUSER_ONLY, SUPERUSER_ONLY),
    ("patch", "/api/users/{target}/accommodations", ACCOMMODATIONS, SUPERUSER_ONLY, SUPERUSER_ONLY),
    # A baseline: proctors who examined the student (the course variant's target sat the course
    # exam; the open variant's target, enrolled nowhere, sat nothing).
    ("get", "/api/baselines/{target}", None, STAFF_ONLY, (403, 403, 404, 404, 200)),
    ("post", "/api/baselines/{target}/reset", None, SUPERUSER_ONLY, SUPERUSER_ONLY),
    # Accommodations in a course: its staff only.
    ("put", "/api/courses/{course}/accommodations/{enrolled}", ACCOMMODATIONS, STAFF_ONLY, STAFF_ONLY),
    ("get", "/api/courses/{course}/accommodations", None, STAFF_ONLY, STAFF_ONLY),
    # An exam's allowances: whoever may change it (the staff member created both variants' exams).
    ("put", "/api/exams/{exam}/allowances/{enrolled}", ACCOMMODATIONS, STAFF_ONLY, (403, 403, 200, 403, 200)),
]  # fmt: skip

REST_CASES = [
    pytest.param(method, path, body, course_exam, actor, expected[i], id=f"{method.upper()} {path} {kind} as {actor}")
    for method, path, body, on_course, on_open in REST
    for course_exam, kind, expected in ((True, "course", on_course), (False, "open", on_open))
    for i, actor in enumerate(ACTORS)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "body", "course_exam", "actor", "expected"), REST_CASES)
def test_rest_access(api_client, method, path, body, course_exam, actor, expected):
    world = _world(course_exam=course_exam)
    url = path.format(
        exam=world["exam"].pk,
        spare=world["spare"].pk,
        session=world["session"].pk,
        target=world["target"].pk,
        course=world["course"].pk,
        enrolled=world["enrolled"].pk,
    )
    client = api_client(world[actor])
    call = getattr(client, method)
    response = call(url, body, format="json") if body is not None else call(url)
    assert response.status_code == expected, response.content[:300]
    if expected == 404:
        # Out of scope reads exactly like a row that does not exist.
        missing = path.format(
            exam=987654, spare=987655, session=987654, target=987656, course=987657, enrolled=world["enrolled"].pk
        )
        twin = call(missing, body, format="json") if body is not None else call(missing)
        assert twin.status_code == 404
        assert twin.json()["error"] == response.json()["error"]


# (list path, what must be listed, actors who see it on a course exam; on an open exam everyone with access does)
LISTS = [
    ("/api/exams", "exam", {"enrolled", "staff", "superuser"}),
    ("/api/exams/sessions", "session", {"enrolled", "staff", "superuser"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("course_exam", [True, False], ids=["course", "open"])
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("path", "row", "seen_by"), LISTS, ids=[p for p, *_ in LISTS])
def test_lists_show_only_rows_in_scope(api_client, path, row, seen_by, actor, course_exam):
    world = _world(course_exam=course_exam)
    response = api_client(world[actor]).get(path)
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["data"]}
    visible = actor in seen_by or (not course_exam and not (row == "session" and actor == "outsider"))
    assert (world[row].pk in ids) is visible


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["staff", "non_staff", "superuser"])
def test_student_list_shows_students_in_the_proctors_courses_and_in_none(api_client, actor):
    world = _world(course_exam=True)
    ids = {user["id"] for user in api_client(world[actor]).get("/api/users/").json()["data"]}
    assert world["free"].pk in ids
    assert (world["enrolled"].pk in ids) is (actor != "non_staff")
    assert (world["outsider"].pk in ids) is (actor != "staff")


@pytest.mark.django_db
def test_a_student_removed_from_the_course_loses_the_exam_and_the_session(api_client):
    world = _world(course_exam=True)
    Enrollment.objects.filter(student=world["enrolled"]).delete()
    client = api_client(world["enrolled"])
    assert client.get(f"/api/exams/{world['exam'].pk}").status_code == 404
    assert client.get(f"/api/exams/sessions/{world['session'].pk}").status_code == 404
    assert client.post(f"/api/exams/sessions/{world['session'].pk}/events", EVENTS, format="json").status_code == 404


# -- the socket --------------------------------------------------------------------------------

PROCTOR_FRAMES = {
    "get_active_students": lambda w: {"exam_id": w["exam"].pk},
    "warn_student": lambda w: {"session_id": w["session"].pk, "message": "Eyes on screen."},
    "resolve_alert": lambda w: {"alert_id": w["alert"].pk, "note": "ok"},
    "terminate_session": lambda w: {"session_id": w["session"].pk, "reason": "Phone.", "reason_code": "phone_use"},
}
# What a proctor frame answers: in scope, and out of scope (the same as a missing id).
PROCTOR_REPLIES = {
    "join_exam": ("joined_exam", "exam_not_found"),
    "get_active_students": ("active_students", "exam_not_found"),
    "warn_student": ("action_ok", "session_not_found"),
    "resolve_alert": ("action_ok", "not_found"),
    "terminate_session": ("action_ok", "session_not_found"),
}
SOCKET_FRAMES = ("join_exam", *PROCTOR_FRAMES, "suspicious_activity")


def _expected_socket(frame: str, actor: str, course_exam: bool) -> str:
    hidden = course_exam and actor in ("outsider", "non_staff")
    if actor in ("enrolled", "outsider"):
        if frame in PROCTOR_FRAMES:
            return "forbidden"
        if frame == "join_exam":
            return "exam_not_found" if hidden else "joined_exam"
        # suspicious_activity: the outsider's join failed (course) or they never started (open).
        if actor == "enrolled":
            return "activity_logged"
        return "not_joined" if hidden else "session_not_active"
    if frame == "suspicious_activity":
        return "forbidden"
    ok, miss = PROCTOR_REPLIES[frame]
    return miss if hidden else ok


async def _reply(socket) -> str:
    """The name of the next reply frame, or the code of the error frame."""
    while True:
        message = await socket.receive()
        if message["event"] == "error":
            return message["data"]["code"]
        if message["event"] not in ("student_joined", "student_activity", "active_students_changed"):
            return message["event"]


SOCKET_CASES = [
    pytest.param(frame, actor, course_exam, id=f"{frame} {'course' if course_exam else 'open'} as {actor}")
    for frame in SOCKET_FRAMES
    for course_exam in (True, False)
    for actor in ACTORS
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("frame", "actor", "course_exam"), SOCKET_CASES)
async def test_socket_access(ws_connect, frame, actor, course_exam):
    world = await database_sync_to_async(_world)(course_exam=course_exam)
    exam_id = world["exam"].pk
    socket = await ws_connect(world[actor])
    expected = _expected_socket(frame, actor, course_exam)
    if frame == "join_exam":
        await socket.send("join_exam", exam_id=exam_id)
    elif frame == "suspicious_activity":
        if actor in ("enrolled", "outsider"):
            await socket.send("join_exam", exam_id=exam_id)
            await _reply(socket)
        await socket.send("suspicious_activity", exam_id=exam_id, type="tab_switch", client_event_id="s-1")
    else:
        await socket.send(frame, **PROCTOR_FRAMES[frame](world))
    assert await _reply(socket) == expected
    session = await database_sync_to_async(lambda: type(world["session"]).objects.get(pk=world["session"].pk))()
    if frame == "terminate_session":
        assert (session.status == "in_progress") is (expected != "action_ok")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("course_exam", [True, False], ids=["course", "open"])
async def test_a_proctor_off_the_staff_never_receives_the_exams_pushes(ws_connect, course_exam):
    world = await database_sync_to_async(_world)(course_exam=course_exam)
    exam_id = world["exam"].pk
    staff = await ws_connect(world["staff"])
    outsider = await ws_connect(world["non_staff"])
    for socket in (staff, outsider):
        await socket.send("join_exam", exam_id=exam_id)
    assert await _reply(staff) == "joined_exam"
    assert await _reply(outsider) == ("exam_not_found" if course_exam else "joined_exam")
    student = await ws_connect(world["enrolled"])
    await student.send("join_exam", exam_id=exam_id)
    await student.expect("joined_exam")
    await student.send("suspicious_activity", exam_id=exam_id, type="tab_switch", client_event_id="p-1")
    await student.expect("activity_logged")
    assert (await staff.expect("student_activity"))["session_id"] == world["session"].pk
    if course_exam:
        # Nothing at all reaches the proctor off the staff: no join, no activity.
        seen = []
        while not await outsider.nothing(timeout=0.5):
            seen.append((await outsider.receive())["event"])
        assert not {"student_joined", "student_activity"} & set(seen), seen
    else:
        assert (await outsider.expect("student_activity"))["session_id"] == world["session"].pk


@pytest.mark.django_db(transaction=True)
async def test_a_student_removed_from_the_course_mid_exam_cannot_rejoin(ws_connect):
    world = await database_sync_to_async(_world)(course_exam=True)
    await database_sync_to_async(lambda: Enrollment.objects.filter(student=world["enrolled"]).delete())()
    socket = await ws_connect(world["enrolled"])
    await socket.send("join_exam", exam_id=world["exam"].pk)
    assert await _reply(socket) == "exam_not_found"


# -- the admin and the dashboard ----------------------------------------------------------------


def _console(user) -> Client:
    assert proctor_add_to_group(user=user)
    client = Client()
    client.force_login(user)
    return client


ADMIN_LISTS = [
    ("/admin/exams/exam/", "exam"),
    ("/admin/exams/examsession/", "session"),
    ("/admin/monitoring/alert/", "alert"),
    ("/admin/monitoring/event/", "session"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["staff", "non_staff", "superuser"])
@pytest.mark.parametrize(("path", "row"), ADMIN_LISTS, ids=[p for p, _ in ADMIN_LISTS])
def test_admin_changelists_list_only_rows_in_scope(actor, path, row):
    world = _world(course_exam=True)
    activity = parse_activity({"exam_id": world["exam"].pk, "type": "tab_switch"})
    (outcome,) = events_ingest([IngestRequest(world["session"].pk, activity)])
    assert not isinstance(outcome, Exception)
    response = _console(world[actor]).get(path)
    assert response.status_code == 200
    rows = list(response.context["cl"].queryset)
    if path.endswith("event/"):
        found = any(event.session_id == world["session"].pk for event in rows)
    else:
        found = any(obj.pk == world[row].pk for obj in rows)
    assert found is (actor != "non_staff")
    if actor == "non_staff":
        # Not even the exam filter in the sidebar names the exam out of scope.
        assert world["exam"].name not in response.content.decode()


CHANGE_PAGES = [
    ("/admin/exams/exam/{exam}/change/", "/admin/exams/exam/987654/change/"),
    ("/admin/exams/examsession/{session}/change/", "/admin/exams/examsession/987654/change/"),
    ("/admin/monitoring/alert/{alert}/change/", "/admin/monitoring/alert/987654/change/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("template", "missing"), CHANGE_PAGES, ids=[t for t, _ in CHANGE_PAGES])
def test_admin_change_pages_out_of_scope_answer_like_a_missing_row(template, missing):
    world = _world(course_exam=True)
    url = template.format(exam=world["exam"].pk, session=world["session"].pk, alert=world["alert"].pk)
    assert _console(world["staff"]).get(url).status_code == 200
    client = _console(world["non_staff"])
    hidden, absent = client.get(url), client.get(missing)
    assert hidden.status_code == absent.status_code == 302
    assert hidden["Location"] == absent["Location"]


@pytest.mark.django_db
def test_admin_actions_and_posts_cannot_reach_rows_out_of_scope():
    world = _world(course_exam=True)
    client = _console(world["non_staff"])
    session, alert = world["session"], world["alert"]
    export = client.post("/admin/exams/examsession/", {"action": "export_csv", "_selected_action": [session.pk]})
    if export.get("Content-Type", "").startswith("text/csv"):
        assert export.content.count(b"\n") == 1  # the header alone
    client.post("/admin/monitoring/alert/", {"action": "resolve_alerts", "_selected_action": [alert.pk], "apply": "1"})
    review = client.post(f"/admin/exams/examsession/{session.pk}/review/", {"review_status": "clean", "note": "x"})
    resolve = client.post(f"/admin/exams/examsession/{session.pk}/alerts/{alert.pk}/resolve/", {"note": "x"})
    assert review.status_code == resolve.status_code == 404
    alert.refresh_from_db()
    session.refresh_from_db()
    assert not alert.resolved
    assert session.review_status != "clean"


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["staff", "non_staff", "superuser"])
def test_baselines_users_and_audit_in_the_admin_follow_the_same_rule(actor):
    world = _world(course_exam=True)
    session_review(session=world["session"], by=world["staff"], review_status="clean", note="ok")
    client = _console(world[actor])
    baselines = {b.user_id for b in client.get("/admin/scoring/baseline/").context["cl"].queryset}
    users = {u.pk for u in client.get("/admin/accounts/user/").context["cl"].queryset}
    audit = list(client.get("/admin/accounts/auditentry/").context["cl"].queryset)
    assert (world["enrolled"].pk in baselines) is (actor != "non_staff")
    # A baseline is read by who examined the student: "free" sat no exam.
    assert (world["free"].pk in baselines) is (actor == "superuser")
    assert (world["enrolled"].pk in users) is (actor != "non_staff")
    assert (len(audit) > 0) is (actor in ("staff", "superuser"))


@pytest.mark.django_db
@pytest.mark.parametrize("course_exam", [True, False], ids=["course", "open"])
@pytest.mark.parametrize("actor", ["staff", "non_staff", "superuser"])
def test_dashboard_pages_are_scoped(actor, course_exam):
    world = _world(course_exam=course_exam)
    client = Client()
    client.force_login(world[actor])
    hidden = course_exam and actor == "non_staff"
    listing = client.get("/monitor/")
    assert listing.status_code == 200
    assert (world["exam"] in list(listing.context["exams"])) is not hidden
    exam_id = world["exam"].pk
    for url in (f"/monitor/exam/{exam_id}/", f"/monitor/exam/{exam_id}/alerts/"):
        assert client.get(url).status_code == (404 if hidden else 200)
