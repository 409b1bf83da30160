"""Every action the service writes to the audit trail has a sentence in plain words
(`audit/actions.py`): the permission vocabulary, and each action named in the code (an
`action=` argument, an `..._ACTION` or `MANY_CHILDREN` constant, the delivery worker's
`alert:delivery:<status>`). A new action without a sentence fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import index_service
from index_service.access.policy import Permission
from index_service.alerts.models import DeliveryStatus
from index_service.audit.actions import SENTENCES, sentence

SOURCE = Path(index_service.__file__).parent
ACTION_CONSTANTS = ("_ACTION", "MANY_CHILDREN")


def _named_action(node: ast.AST) -> ast.expr | None:
    """The expression that names an audit action at this node, if it does."""
    if isinstance(node, ast.keyword) and node.arg == "action":
        return node.value
    targets = node.targets if isinstance(node, ast.Assign) else []
    if any(isinstance(t, ast.Name) and t.id.endswith(ACTION_CONSTANTS) for t in targets):
        return node.value  # type: ignore[attr-defined, no-any-return]
    # `(route.openapi_extra or {}).get(PERMISSION_KEY, "undeclared")`
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "get"
        and len(node.args) == 2
        and getattr(node.args[0], "id", "") == "PERMISSION_KEY"
    ):
        return node.args[1]
    return None


def written_actions() -> set[str]:
    """The audit actions named in the service's code."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            value = _named_action(node)
            if isinstance(value, ast.Constant) and ":" in str(value.value):
                found.add(str(value.value))
            elif isinstance(value, ast.JoinedStr):
                prefix = "".join(str(p.value) for p in value.values if isinstance(p, ast.Constant))
                assert prefix == "alert:delivery:", f"{path}: an action made at run time"
                found.update(f"{prefix}{status.value}" for status in DeliveryStatus)
            elif isinstance(value, ast.IfExp):  # `permission.value if ... else "web:page"`
                for branch in (value.body, value.orelse):
                    if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                        found.add(branch.value)
    return found | {p.value for p in Permission} | {"undeclared"}


def test_every_action_the_service_writes_has_a_sentence() -> None:
    actions = written_actions()
    assert {"web:page", "web:sign_in", "alert:raise", "alert:delivery:delivered"} <= actions
    missing = sorted(actions - set(SENTENCES))
    assert not missing, f"audit actions with no sentence in audit/actions.py: {missing}"


def test_sentences_are_plain_words_and_say_what_an_enquiry_found() -> None:
    for action, said in SENTENCES.items():
        assert ":" not in said, action
        assert said == said.strip(), action
        assert said[0].islower(), action
    assert sentence("child:record:read") == "opened the record"
    assert sentence("alert:raise") == "was alerted"
    assert sentence("child:enquiry:create", detail={"outcome": "match"}) == (
        "made an enquiry that matched"
    )
    assert sentence("child:record:update", "refused") == "corrected the record (was refused)"
