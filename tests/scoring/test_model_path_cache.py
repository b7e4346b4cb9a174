"""The newest population model's path is cached by the model folder's mtime, never stale."""

from __future__ import annotations

import os
import time

import pytest

from scoring import services
from scoring.services import MODEL_PREFIX, population_model_path


@pytest.fixture
def model_dir(settings, tmp_path):
    directory = tmp_path / "models"
    directory.mkdir()
    settings.EXAMPULSE = {**settings.EXAMPULSE, "MODEL_DIR": str(directory)}
    return directory


def _age(directory, seconds: float = 60) -> None:
    past = time.time() - seconds
    os.utime(directory, (past, past))


def test_a_settled_folder_is_not_listed_again(model_dir, monkeypatch):
    first = model_dir / f"{MODEL_PREFIX}20250101T000000000000Z.joblib"
    first.touch()
    _age(model_dir)
    assert population_model_path() == first
    listed = []
    monkeypatch.setattr(services.Path, "glob", lambda self, pattern: listed.append(pattern) or iter(()))
    assert population_model_path() == first
    assert listed == []


def test_a_new_model_is_seen_at_once(model_dir):
    first = model_dir / f"{MODEL_PREFIX}20250101T000000000000Z.joblib"
    first.touch()
    _age(model_dir)
    assert population_model_path() == first
    newer = model_dir / f"{MODEL_PREFIX}20250102T000000000000Z.joblib"
    newer.touch()
    assert population_model_path() == newer
    # Even when the folder's mtime did not move (one mtime tick), a recent folder is listed again.
    stamp = model_dir.stat().st_mtime_ns
    newest = model_dir / f"{MODEL_PREFIX}20250103T000000000000Z.joblib"
    newest.touch()
    os.utime(model_dir, ns=(stamp, stamp))
    assert population_model_path() == newest


def test_removing_the_models_or_the_folder_is_seen(model_dir):
    only = model_dir / f"{MODEL_PREFIX}20250101T000000000000Z.joblib"
    only.touch()
    _age(model_dir)
    assert population_model_path() == only
    only.unlink()
    assert population_model_path() is None
    model_dir.rmdir()
    assert population_model_path() is None
