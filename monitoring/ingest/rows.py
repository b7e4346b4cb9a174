"""An event batch's writes: its sessions' new scores and its events, in one round trip.

Every event batch runs these, and Django's query compiler spends more CPU building an UPDATE or
a bulk INSERT than the database spends running it. The SQL is built once per process from the
models' own table and column names and sent with the fields' own value adaptation
(`get_db_prep_save`), so PostgreSQL and SQLite take the same code.

`batch_write` sends one UPDATE per scored session and one INSERT for all the events. On
PostgreSQL they go out together in psycopg's pipeline mode: one round trip, where each round trip
also costs the database thread a wait for the GIL behind the event loop. The UPDATE can be
guarded (`WHERE state_version = <the snapshot's> AND the session is still open, unpaused and not
due`): a batch computed from a process's snapshot (monitoring.ingest.snapshots) then learns from
the row count whether the snapshot was current, and takes the row lock in the same statement.
The INSERT skips an event whose `client_event_id` is already stored for its session
(`ON CONFLICT DO NOTHING`); the ids it returns say which ones. These statements bypass Django's
cursor wrapper on PostgreSQL (psycopg's pipeline is below it), so they are not in its query log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from exams.models import ExamSession, SessionStatus
from monitoring.models import Event

# The columns an event batch writes on a session, in the statement's order.
SESSION_SCORE_FIELDS = (
    "risk_score",
    "integrity_score",
    "risk_level",
    "risk_components",
    "anomaly_score",
    "behaviour",
    "last_event_at",
    "state_version",
)


@dataclass(frozen=True)
class SessionWrite:
    """One session's new score and aggregate after a batch (and how many incidents it added)."""

    session_id: int
    values: dict[str, Any]  # SESSION_SCORE_FIELDS -> value
    incidents: int = 0
    # With a guard: the version the batch was computed from (the UPDATE matches only that row).
    expected_version: int | None = None


@dataclass(frozen=True)
class BatchWritten:
    sessions_matched: int  # UPDATEs that found their row (with a guard: a current, open one)
    events_new: bool  # every event was inserted (none was a repeat of a stored one)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model, name: str) -> str:
    return _quote(model._meta.get_field(name).column)


@cache
def _session_update_sql(guarded: bool) -> str:
    meta = ExamSession._meta
    assignments = [f"{_column(ExamSession, name)} = %s" for name in SESSION_SCORE_FIELDS]
    incidents = _column(ExamSession, "flagged_incidents_count")
    assignments.append(f"{incidents} = {incidents} + %s")
    where = f"{_quote(meta.pk.column)} = %s"
    if guarded:
        where += (
            f" AND {_column(ExamSession, 'state_version')} = %s AND {_column(ExamSession, 'status')} = %s"
            f" AND {_column(ExamSession, 'paused_at')} IS NULL AND {_column(ExamSession, 'deadline_at')} >= %s"
        )
    # Identifiers from the model's meta, quoted; every value is a parameter.
    return f"UPDATE {_quote(meta.db_table)} SET {', '.join(assignments)} WHERE {where}"  # noqa: S608


def _event_fields() -> list:
    return [field for field in Event._meta.concrete_fields if not field.primary_key]


@cache
def _event_insert_sql(count: int) -> str:
    meta = Event._meta
    columns = ", ".join(_quote(field.column) for field in _event_fields())
    one = "(" + ", ".join(["%s"] * len(_event_fields())) + ")"
    session, key = _column(Event, "session"), _column(Event, "client_event_id")
    # Identifiers from the model's meta, quoted; every value is a parameter.
    return (
        f"INSERT INTO {_quote(meta.db_table)} ({columns}) VALUES {', '.join([one] * count)} "  # noqa: S608
        # The target names the partial unique index: (session, client_event_id) where there is an id.
        f"ON CONFLICT ({session}, {key}) WHERE {key} IS NOT NULL DO NOTHING "
        f"RETURNING {_quote(meta.pk.column)}, {session}, {key}"
    )


def _update_params(writes: Sequence[SessionWrite], not_due_before: datetime | None) -> list[list[Any]]:
    fields = [ExamSession._meta.get_field(name) for name in SESSION_SCORE_FIELDS]
    deadline = ExamSession._meta.get_field("deadline_at")
    rows = []
    for write in writes:
        row = [field.get_db_prep_save(write.values[field.name], connection) for field in fields]
        row += [write.incidents, write.session_id]
        if not_due_before is not None:
            row += [
                write.expected_version,
                SessionStatus.IN_PROGRESS.value,
                deadline.get_db_prep_save(not_due_before, connection),
            ]
        rows.append(row)
    return rows


def _insert_params(events: Sequence[Event]) -> list[Any]:
    fields = _event_fields()
    params: list[Any] = []
    for event in events:
        params.extend(field.get_db_prep_save(field.pre_save(event, add=True), connection) for field in fields)
    return params


def batch_write(
    writes: Sequence[SessionWrite], events: Sequence[Event], *, not_due_before: datetime | None = None
) -> BatchWritten:
    """Update the sessions and insert the events (setting their ids when all are new).

    With `not_due_before` each UPDATE is guarded by its `expected_version` and matches only a row
    still in progress, not paused and with its deadline at or after that instant. Without it the
    caller holds the rows' locks already. The caller rolls its transaction back when a guarded
    UPDATE matched nothing or an event was a repeat: the batch computed from stale state.
    """
    update_sql = _session_update_sql(not_due_before is not None)
    update_rows = _update_params(writes, not_due_before)
    insert_sql = _event_insert_sql(len(events)) if events else ""
    insert_params = _insert_params(events) if events else []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not_due_before is not None and writes and events:
            returned = _write_one_statement(cursor.cursor, writes, update_rows, not_due_before, insert_params)
            # Every scored session has a new event in the batch, and a session's events go in only
            # when its UPDATE matched: all of them back means every UPDATE matched.
            matched = len(writes) if len(returned) == len(events) else 0
        elif connection.vendor == "postgresql":
            matched, returned = _write_pipelined(cursor.cursor, update_sql, update_rows, insert_sql, insert_params)
        else:
            matched = 0
            for row in update_rows:
                cursor.execute(update_sql, row)
                matched += cursor.rowcount
            returned = []
            if events:
                cursor.execute(insert_sql, insert_params)
                returned = cursor.fetchall()
    if len(returned) != len(events):
        return BatchWritten(sessions_matched=matched, events_new=False)
    # Ids are matched by (session, key), unique by the index; events without a key take theirs in the order the
    # rows came back, which is the VALUES order on both databases.
    by_key = {(session_id, key): pk for pk, session_id, key in returned if key is not None}
    keyless = iter(pk for pk, _session_id, key in returned if key is None)
    for event in events:
        key = event.client_event_id
        event.pk = by_key[(event.session_id, key)] if key is not None else next(keyless)
        event._state.adding = False
        event._state.db = connection.alias
    return BatchWritten(sessions_matched=matched, events_new=True)


@cache
def _guarded_batch_sql(sessions: int, events: int) -> str:
    """PostgreSQL: the guarded UPDATEs and the INSERT as one statement (see `batch_write`)."""
    meta = ExamSession._meta
    score_fields = [meta.get_field(name) for name in SESSION_SCORE_FIELDS]
    pk_cast = meta.pk.cast_db_type(connection)
    # v: one row per session: its id, the version the batch was computed from, the new values, incidents.
    v_columns = ["id", "expected", *(f"f{i}" for i in range(len(score_fields))), "incidents"]
    v_casts = [pk_cast, "integer", *(field.cast_db_type(connection) for field in score_fields), "integer"]
    v_row = "(" + ", ".join(f"%s::{cast}" for cast in v_casts) + ")"
    sets = [f"{_quote(field.column)} = v.f{i}" for i, field in enumerate(score_fields)]
    incidents = _column(ExamSession, "flagged_incidents_count")
    sets.append(f"{incidents} = s.{incidents} + v.incidents")
    event_fields = _event_fields()
    e_columns = [f"c{i}" for i in range(len(event_fields))]
    e_row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in event_fields) + ")"
    session_position = next(i for i, field in enumerate(event_fields) if field.name == "session")
    key = _column(Event, "client_event_id")
    # Identifiers from the models' meta, quoted; every value is a parameter.
    return (
        f"WITH v ({', '.join(v_columns)}) AS (VALUES {', '.join([v_row] * sessions)}), "  # noqa: S608
        f"upd AS (UPDATE {_quote(meta.db_table)} AS s SET {', '.join(sets)} FROM v "
        f"WHERE s.{_quote(meta.pk.column)} = v.id AND s.{_column(ExamSession, 'state_version')} = v.expected "
        f"AND s.{_column(ExamSession, 'status')} = %s AND s.{_column(ExamSession, 'paused_at')} IS NULL "
        f"AND s.{_column(ExamSession, 'deadline_at')} >= %s RETURNING s.{_quote(meta.pk.column)} AS id) "
        f"INSERT INTO {_quote(Event._meta.db_table)} ({', '.join(_quote(f.column) for f in event_fields)}) "
        f"SELECT {', '.join(e_columns)} FROM (VALUES {', '.join([e_row] * events)}) AS e ({', '.join(e_columns)}) "
        f"WHERE e.c{session_position} IN (SELECT id FROM upd) "
        f"ON CONFLICT ({_column(Event, 'session')}, {key}) WHERE {key} IS NOT NULL DO NOTHING "
        f"RETURNING {_quote(Event._meta.pk.column)}, {_column(Event, 'session')}, {key}"
    )


def _write_one_statement(raw_cursor, writes, update_rows: list, not_due_before: datetime, insert_params: list):
    """PostgreSQL, guarded: one statement (sent with its BEGIN in one round trip); the events come
    back only for sessions whose UPDATE matched. Returns the rows inserted."""
    sql = _guarded_batch_sql(len(writes), len(insert_params) // len(_event_fields()))
    columns = len(SESSION_SCORE_FIELDS)
    params: list[Any] = []
    for write, row in zip(writes, update_rows, strict=True):
        params += [write.session_id, write.expected_version, *row[:columns], write.incidents]
    deadline = ExamSession._meta.get_field("deadline_at")
    params += [SessionStatus.IN_PROGRESS.value, deadline.get_db_prep_save(not_due_before, connection)]
    params += insert_params
    with raw_cursor.connection.pipeline():
        raw_cursor.execute(sql, params)
    return raw_cursor.fetchall()


def _write_pipelined(raw_cursor, update_sql: str, update_rows: list, insert_sql: str, insert_params: list):
    """PostgreSQL: every statement in one pipeline (one round trip); returns (rows updated, rows inserted)."""
    pg = raw_cursor.connection
    insert_cursor = pg.cursor()
    try:
        with pg.pipeline():
            if update_rows:
                raw_cursor.executemany(update_sql + " RETURNING 1", update_rows, returning=True)
            if insert_sql:
                insert_cursor.execute(insert_sql, insert_params)
        matched = 0
        if update_rows:
            while True:
                matched += len(raw_cursor.fetchall())
                if not raw_cursor.nextset():
                    break
        returned = insert_cursor.fetchall() if insert_sql else []
    finally:
        insert_cursor.close()
    return matched, returned
