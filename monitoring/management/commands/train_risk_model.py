"""`manage.py train_risk_model`: fit the population model on completed sessions and save a new version."""

from __future__ import annotations

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from exams.models import ExamSession, SessionStatus
from scoring.aggregation import signals_from
from scoring.population import FEATURES, MIN_TRAINING_SESSIONS, train, vector_from
from scoring.services import population_model_path, population_model_save


class Command(BaseCommand):
    help = "Train the population IsolationForest on completed sessions' behaviour and save it versioned."

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-sessions",
            type=int,
            default=MIN_TRAINING_SESSIONS,
            help=f"Refuse to train on fewer completed sessions (default {MIN_TRAINING_SESSIONS}).",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Train only when no model has been saved yet (`make run` does this on every start; "
            "`make retrain` trains a new version).",
        )

    def handle(self, *args, min_sessions: int, if_missing: bool = False, **options):
        existing = population_model_path()
        if if_missing and existing is not None:
            # Each training saves a new version: a server start must not add one every time.
            self.stdout.write(f"A population model exists ({existing.name}); not training (--if-missing).")
            return
        minimum = max(min_sessions, MIN_TRAINING_SESSIONS)
        behaviours = (
            ExamSession.objects.filter(status__in=[SessionStatus.SUBMITTED, SessionStatus.FLAGGED])
            # A reset (voided) attempt is not how students behave in a real attempt: it never trains the model.
            .exclude(voided=True)
            .exclude(behaviour={})
            .values_list("behaviour", flat=True)
        )
        rows = [vector_from(signals_from(b)) for b in behaviours.iterator() if isinstance(b, dict) and b.get("events")]
        if len(rows) < minimum:
            raise CommandError(
                f"Too few completed sessions with recorded behaviour to train: {len(rows)}, need at least {minimum}. "
                "Scoring keeps working without a population model. On a demo database run "
                "`manage.py seed_demo_activity` first."
            )
        model = train(np.array(rows, dtype=float), metadata={"source": "completed exam sessions"})
        path = population_model_save(model=model)
        meta = model.metadata
        self.stdout.write(
            self.style.SUCCESS(
                f"Trained population model {meta['version']} on {meta['sample_count']} sessions "
                f"({len(FEATURES)} features: {', '.join(FEATURES)}; scikit-learn {meta['sklearn_version']})."
            )
        )
        self.stdout.write(f"Saved to {path} (metadata in {path.with_suffix('.json').name}).")
