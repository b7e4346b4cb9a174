"""The event batch's writes, as two hand-built statements.

Every event batch runs them, and Django's query compiler spends more CPU building an UPDATE or
a bulk INSERT than the database spends running it. The SQL is built once per process from the
models' own table and column names and sent with the fields' own value adaptation
(`get_db_prep_save`), so PostgreSQL and SQLite take the same code.

- `sessions_write` updates every scored session of a batch, one statement per session sent
  together (`executemany`: psycopg pipelines them into one round trip).
- `events_insert` inserts a batch's events in one statement; an event whose `client_event_id`
  is already stored for its session is skipped by the database (`ON CONFLICT DO NOTHING`), and
  the caller learns which ones from the ids the statement returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection

from exams.models import ExamSession
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


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _session_update_sql() -> str:
    meta = ExamSession._meta
    assignments = [f"{_quote(meta.get_field(name).column)} = %s" for name in SESSION_SCORE_FIELDS]
    incidents = _quote(meta.get_field("flagged_incidents_count").column)
    assignments.append(f"{incidents} = {incidents} + %s")
    table, pk = _quote(meta.db_table), _quote(meta.pk.column)
    # Identifiers from the model's meta, quoted; every value is a parameter.
    return f"UPDATE {table} SET {', '.join(assignments)} WHERE {pk} = %s"  # noqa: S608


def sessions_write(writes: Sequence[SessionWrite]) -> None:
    """Write each session's score and aggregate; the caller holds the rows' locks."""
    if not writes:
        return
    fields = [ExamSession._meta.get_field(name) for name in SESSION_SCORE_FIELDS]
    rows = [
        [field.get_db_prep_save(write.values[field.name], connection) for field in fields]
        + [write.incidents, write.session_id]
        for write in writes
    ]
    with connection.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(_session_update_sql(), rows[0])
        else:
            cursor.executemany(_session_update_sql(), rows)


def _event_fields() -> list:
    return [field for field in Event._meta.concrete_fields if not field.primary_key]


@cache
def _event_insert_sql(count: int) -> str:
    meta = Event._meta
    fields = _event_fields()
    columns = ", ".join(_quote(field.column) for field in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    session = _quote(meta.get_field("session").column)
    key = _quote(meta.get_field("client_event_id").column)
    # Identifiers from the model's meta, quoted; every value is a parameter.
    return (
        f"INSERT INTO {_quote(meta.db_table)} ({columns}) VALUES {', '.join([one] * count)} "  # noqa: S608
        # The target names the partial unique index: (session, client_event_id) where there is an id.
        f"ON CONFLICT ({session}, {key}) WHERE {key} IS NOT NULL DO NOTHING "
        f"RETURNING {_quote(meta.pk.column)}, {key}"
    )


def events_insert(events: Sequence[Event]) -> bool:
    """Insert `events` and set their ids; False (and no ids set) when any of them was already stored.

    The caller rolls back on False: the batch folded a repeat into its sessions' aggregates.
    """
    if not events:
        return True
    fields = _event_fields()
    params: list[Any] = []
    for event in events:
        params.extend(field.get_db_prep_save(field.pre_save(event, add=True), connection) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(_event_insert_sql(len(events)), params)
        returned = cursor.fetchall()
    if len(returned) != len(events):
        return False
    # Rows come back in VALUES order on both databases; the keys are checked all the same.
    for event, (pk, key) in zip(events, returned, strict=True):
        if key != event.client_event_id:
            raise RuntimeError("the event insert returned its rows out of order")
        event.pk = pk
        event._state.adding = False
        event._state.db = connection.alias
    return True
