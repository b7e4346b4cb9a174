"""SECURITY.md maps every threat to tests: each `file::Class::test` it names must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)((?:::[\w]+)+)(?:\[[^\]]*\])?`")
CONTINUATION = re.compile(r"`::([\w:]+)`")


def _names(path: Path) -> set[str]:
    """Every `Class`, `Class::method` and module-level function in a test file."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(f"{node.name}::{item.name}")
    return names


def references() -> list[tuple[str, str]]:
    """(file, node) pairs, expanding `::name` shorthands that continue the previous file's reference."""
    found = []
    for line in (ROOT / "SECURITY.md").read_text().splitlines():
        if not line.startswith("|"):
            continue
        current_file = current_class = None
        for token in re.findall(r"`[^`]+`", line):
            full = REFERENCE.fullmatch(token)
            if full:
                current_file = full.group(1)
                parts = full.group(2).strip(":").split("::")
                current_class = parts[0] if len(parts) > 1 else None
                found.append((current_file, "::".join(parts)))
                continue
            short = CONTINUATION.fullmatch(re.sub(r"\[[^\]]*\]", "", token))
            if short and current_file:
                node = short.group(1)
                if current_class and "::" not in node and node.startswith("test_"):
                    # `::test_x` after `file::Class::test_y` names a sibling in the same class when one exists.
                    sibling = f"{current_class}::{node}"
                    if sibling in _names(ROOT / current_file):
                        node = sibling
                found.append((current_file, node))
    return found


def test_every_test_security_md_names_exists():
    refs = references()
    missing = [f"{file}::{node}" for file, node in refs if node not in _names(ROOT / file)]

    assert len(refs) > 40
    assert not missing, missing


def test_the_trust_model_names_a_guard_for_each_trust_rule():
    """The trust model section exists and points at the regression test of each rule it states."""
    text = (ROOT / "SECURITY.md").read_text()
    section = text[text.index("## Trust model") :]
    section = section[: section.index("\n## ", 1)]
    for guard in (
        "test_issue_22_item_1_another_proctor_cannot_change_or_take_over_an_open_exam",
        "test_issue_22_item_2_enrolling_a_student_gives_no_reach_into_their_other_courses",
        "test_issue_22_item_3_a_student_cannot_lower_their_live_risk_by_rewriting_their_baseline",
        "test_by_default_the_students_ack_and_join_reply_carry_no_risk_and_the_proctor_sees_it",
    ):
        assert guard in section, guard
