"""A session's whole score in one call: the spec's rules, the student's anomaly detector and the
population model. Pure (no Django; an import contract checks): the caller brings a `ScoringContext`.

`ScoringContext.score_event(state, event)` is the one call ingestion makes per event: the event's
severity, the folded aggregate, the score and the alerts it calls for, and the state the next event
starts from. The back-and-forth between scoring's parts (severity, aggregation, rules, detector
score, its explanation, population score, alert edges) stays here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scoring import engine
from scoring.aggregation import fold, signals_from
from scoring.alerts import THRESHOLD_ALERT, AlertDue, alerts_due
from scoring.anomaly import ANOMALY_THRESHOLD, SESSION_FEATURES, BaselineDetector, session_vector
from scoring.population import PopulationModel, vector_from
from scoring.severity import severity_for
from scoring.types import BaselineStats, Policy, RiskScore, Signals


@dataclass(frozen=True)
class ScoringState:
    """What a session's next event is scored from, besides the context: the aggregate of its events so
    far, the highest level alerted, the detector's last verdict and the last population opinion (the
    "population" entry of `SessionScore.components_json()`, None before the first)."""

    behaviour: Mapping[str, Any] | None = None
    alerted_level: str = ""
    was_anomalous: bool = False
    population: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ScoringEvent:
    """One event as scoring reads it. A technical event is given its severity and never scored."""

    event_type: str
    payload: Mapping[str, Any]
    technical: bool = False


@dataclass(frozen=True)
class ScoringContext:
    """Everything a session's score depends on besides its events (scoring.services caches them)."""

    policy: Policy
    baseline: BaselineStats | None
    detector: BaselineDetector | None = None
    population: PopulationModel | None = None
    anomaly_threshold: float = ANOMALY_THRESHOLD

    def score_event(self, state: ScoringState, event: ScoringEvent, *, population_every: int = 1) -> Scored:
        """Score one more event of a session: its severity, the new score and state, and the alerts due.

        The population model is scored on the session's first scored event and every
        `population_every`-th after it; in between its last opinion (in `state`) stands: it never
        changes the risk, and the forest is the dearest part of a score.
        """
        severity = severity_for(
            event.event_type,
            event.payload,
            allow_tab_switch=self.policy.allow_tab_switch,
            allow_copy_paste=self.policy.allow_copy_paste,
        )
        if event.technical:
            return Scored(state=state, severity=severity, score=None)
        behaviour = fold(state.behaviour or {}, event.event_type, event.payload)
        rescore_population = (int(behaviour.get("events") or 0) - 1) % population_every == 0
        score = session_score(
            context=self, behaviour=behaviour, population_previous=None if rescore_population else state.population
        )
        due = alerts_due(
            score.risk,
            alerted_level=state.alerted_level,
            was_anomalous=state.was_anomalous,
            is_anomalous=score.is_anomalous,
            anomaly_score=score.anomaly_score,
            anomaly_explanation=score.anomaly_explanation,
        )
        alerted = any(alert.alert_type == THRESHOLD_ALERT for alert in due)
        return Scored(
            state=ScoringState(
                behaviour=behaviour,
                alerted_level=score.risk.level if alerted else state.alerted_level,
                was_anomalous=score.is_anomalous,
                population=score.population_opinion(),
            ),
            severity=severity,
            score=score,
            alerts_due=due,
        )


@dataclass(frozen=True)
class SessionScore:
    """The spec's risk plus the two ML opinions, each with its own explanation."""

    risk: RiskScore
    anomaly_score: float | None
    anomaly_explanation: str
    is_anomalous: bool
    population_score: float | None = None
    population_outlier: bool = False
    population_explanation: str = "no population model trained"
    population_version: str | None = None
    anomaly_threshold: float = ANOMALY_THRESHOLD

    def components_json(self) -> dict[str, Any]:
        """The JSON stored in ExamSession.risk_components."""
        risk = self.risk.as_dict()
        return {
            "components": risk["components"],
            "alert_threshold": risk["alert_threshold"],
            "anomaly": {
                "score": self.anomaly_score,
                "threshold": self.anomaly_threshold,
                "is_anomalous": self.is_anomalous,
                "explanation": self.anomaly_explanation,
            },
            "population": self.population_opinion(),
        }

    def population_opinion(self) -> dict[str, Any]:
        """The population model's opinion as stored (and handed back to the next score to stand)."""
        return {
            "score": self.population_score,
            "is_outlier": self.population_outlier,
            "explanation": self.population_explanation,
            "version": self.population_version,
        }


@dataclass(frozen=True)
class Scored:
    """What one event did to its session's score: `score` is None for a technical event (never scored)."""

    state: ScoringState
    severity: str
    score: SessionScore | None
    alerts_due: tuple[AlertDue, ...] = ()


def _anomaly(context: ScoringContext, vector: list[float | None]) -> tuple[float | None, str, bool]:
    if context.detector is None:
        if context.baseline is None:
            return None, "no baseline yet", False
        baseline = context.baseline
        return None, f"anomaly detector: needs {baseline.ready_after} samples, has {baseline.sample_count}", False
    value = context.detector.score_one(vector)
    if value is None:
        return None, "nothing measured yet that the baseline also has", False
    value = round(value, 4)
    flagged = value > context.anomaly_threshold
    detail = context.detector.explain_one(vector, SESSION_FEATURES)
    verdict = "unlike" if flagged else "consistent with"
    relation = ">" if flagged else "<="
    text = f"behaviour {verdict} the student's baseline (score {value:.2f} {relation} {context.anomaly_threshold})"
    return value, f"{text}: {detail}" if detail else text, flagged


def _population(
    context: ScoringContext, signals: Signals, previous: Mapping[str, Any] | None
) -> tuple[float | None, bool, str, str | None]:
    model = context.population
    if model is None:
        return None, False, "no population model trained", None
    version = model.metadata.get("version")
    if previous and previous.get("version") == version and previous.get("score") is not None:
        return previous["score"], bool(previous.get("is_outlier")), str(previous.get("explanation", "")), version
    value = round(model.score_one(vector_from(signals)), 4)
    outlier = model.is_outlier(value)
    word = "unusual" if outlier else "ordinary"
    return value, outlier, f"{word} among past sessions (isolation score {value:.2f})", version


def session_score(
    *,
    context: ScoringContext,
    behaviour: dict[str, Any] | None,
    population_previous: Mapping[str, Any] | None = None,
) -> SessionScore:
    """Score a session's aggregate state: the spec's risk, the per-student anomaly and the population view.

    `population_previous` is the population opinion stored with the session's last score (the
    "population" entry of `components_json()`): given, and from the same model version, it stands
    instead of scoring the model again. The population model never changes the risk, so a live
    caller refreshes it on a cadence rather than paying for the forest on every event.
    """
    signals = signals_from(behaviour)
    risk = engine.score(signals=signals, baseline=context.baseline, policy=context.policy)
    anomaly, explanation, flagged = _anomaly(context, session_vector(signals))
    population, outlier, population_text, version = _population(context, signals, population_previous)
    return SessionScore(
        risk=risk,
        anomaly_score=anomaly,
        anomaly_explanation=explanation,
        is_anomalous=flagged,
        population_score=population,
        population_outlier=outlier,
        population_explanation=population_text,
        population_version=version,
        anomaly_threshold=context.anomaly_threshold,
    )


def risk_only(*, context: ScoringContext, behaviour: dict[str, Any] | None) -> RiskScore:
    """Only the spec's risk (a rescore rebuilds each event's risk-after with it; the ML opinions are per session)."""
    return engine.score(signals=signals_from(behaviour), baseline=context.baseline, policy=context.policy)
