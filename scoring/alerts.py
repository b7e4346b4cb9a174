"""When a session's score raises an alert: the threshold edge and the anomaly edge. Pure (no Django).

An alert marks a change, not a state: the threshold alert fires when the risk reaches the exam's
threshold at a level above the highest already alerted (so a session that stays high raises it
once, and one that climbs from medium to high raises it again); the anomaly alert fires when the
student's detector starts firing, not on every event while it keeps firing. Ingestion stores what
`alerts_due` returns; nothing here knows about rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scoring.types import RiskScore

# Levels in the order an alert can climb; "" is a session never alerted.
LEVEL_RANK = {"": 0, "low": 1, "medium": 2, "high": 3}
THRESHOLD_ALERT = "risk_threshold"
ANOMALY_ALERT = "behaviour_anomaly"


@dataclass(frozen=True)
class AlertDue:
    """An alert a score calls for (its risk and level are the score's)."""

    alert_type: str
    severity: str
    message: str
    components: dict[str, Any]


def alerts_due(
    risk: RiskScore,
    *,
    alerted_level: str,
    was_anomalous: bool,
    is_anomalous: bool,
    anomaly_score: float | None,
    anomaly_explanation: str,
) -> tuple[AlertDue, ...]:
    """The alerts this score raises, given the highest level already alerted and the detector's last verdict."""
    due = []
    if risk.reaches_threshold and LEVEL_RANK[risk.level] > LEVEL_RANK[alerted_level or ""]:
        due.append(
            AlertDue(
                alert_type=THRESHOLD_ALERT,
                severity="high" if risk.level == "high" else "medium",
                message=threshold_message(risk),
                components=risk.as_dict()["components"],
            )
        )
    if is_anomalous and not was_anomalous:
        due.append(
            AlertDue(
                alert_type=ANOMALY_ALERT,
                severity="medium",
                message=anomaly_explanation,
                components={"anomaly_score": anomaly_score},
            )
        )
    return tuple(due)


def threshold_message(risk: RiskScore) -> str:
    """The threshold alert's message: the risk, its level and the reasons of the signals that count."""
    reasons = [c["reason"] for c in risk.as_dict()["components"].values() if c.get("value", 0) > 0]
    summary = "; ".join(reasons) if reasons else "combined signals"
    return f"Risk {risk.risk_score:.2f} ({risk.level}): {summary}"
