"""The frozen snapshot of a village's ledger in a round, and the 附件3 counts read from it.

A snapshot row points at the newest django-simple-history rows of the child, both parents and
the entrusted guardian at the moment of the village's submission, and keeps the child's
附件3 facts (nationalforms.table3.ChildFacts, no personal data) as JSON. Later edits of the
files write newer history rows; the snapshot keeps pointing at the old ones, so the round's
counts and roster never move once approved.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from django.db.models import Max, Model, QuerySet

from accounts.models import User
from geo.models import Region
from nationalforms import table3
from nationalforms.table3 import ChildFacts
from registry import choices as c
from registry.models import Child, EntrustedGuardian, Parent
from submissions.models import Round, SnapshotRow


def facts_to_json(facts: ChildFacts) -> dict[str, Any]:
    data = asdict(facts)
    data["birth_date"] = facts.birth_date.isoformat()
    return data


def facts_from_json(data: dict[str, Any]) -> ChildFacts:
    return ChildFacts(**{**data, "birth_date": dt.date.fromisoformat(data["birth_date"])})


def _facts_by_child(children: QuerySet[Child]) -> dict[uuid.UUID, ChildFacts]:
    """The 附件3 facts of every file in `children` (not only the counted ones: the snapshot
    keeps them all), with nationalforms.table3's own loader, so that a snapshot counts exactly
    as the live table does."""
    return dict(table3.facts_by_child(children))


def _latest(model: type[Model], ids: QuerySet[Any], key: tuple[str, ...]) -> dict[Any, int]:
    """key → the newest history id of the objects whose id is in `ids` (one query)."""
    history: Any = model.history  # type: ignore[attr-defined]
    rows = history.filter(id__in=ids).values("id", *key).annotate(latest=Max("history_id"))
    return {tuple(row[name] for name in key): row["latest"] for row in rows}


def _ensure_history(model: type[Model], objects: QuerySet[Any], user: User) -> None:
    """Files written around the services (a raw import) may lack a history row: give them one,
    so that the snapshot has something to point at."""
    history: Any = model.history  # type: ignore[attr-defined]
    missing = objects.exclude(pk__in=history.values("id"))
    if missing.exists():
        history.bulk_history_create(list(missing), default_user=user, default_change_reason="报送快照补记")


def snapshot_take(*, round: Round, village: Region, township: Region, user: User) -> int:
    """Replace the village's snapshot rows in `round` with its active files as they are now.
    One query per model for the whole village; returns the number of files."""
    children = Child.objects.filter(village=village, status=c.Status.ACTIVE)
    parents = Parent.objects.filter(child__in=children.values("id"))
    guardians = EntrustedGuardian.objects.filter(child__in=children.values("id"))
    for model, objects in ((Child, children), (Parent, parents), (EntrustedGuardian, guardians)):
        _ensure_history(model, objects, user)
    child_rows = _latest(Child, children.values("id"), ("id",))
    parent_rows = _latest(Parent, parents.values("id"), ("child_id", "role"))
    guardian_rows = _latest(EntrustedGuardian, guardians.values("id"), ("child_id",))
    facts = _facts_by_child(children)
    flags = dict(children.values_list("id", "is_left_behind"))
    SnapshotRow.objects.filter(round=round, village=village).delete()
    rows = [
        SnapshotRow(
            round=round,
            village=village,
            township=township,
            child_id=child_id,
            child_history_id=history_id,
            father_history_id=parent_rows.get((child_id, c.ParentRole.FATHER)),
            mother_history_id=parent_rows.get((child_id, c.ParentRole.MOTHER)),
            guardian_history_id=guardian_rows.get((child_id,)),
            left_behind=flags[child_id],
            facts=facts_to_json(facts[child_id]),
        )
        for (child_id,), history_id in child_rows.items()
    ]
    SnapshotRow.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def snapshot_facts(rows: QuerySet[SnapshotRow]) -> Iterable[ChildFacts]:
    """The facts of the counted rows (the file was left behind when submitted; the table
    applies the reference date's age and the parents itself)."""
    values = rows.filter(left_behind=True).values_list("facts", flat=True)
    return (facts_from_json(data) for data in values.iterator(chunk_size=2000))


def snapshot_tally(rows: QuerySet[SnapshotRow], *, on: dt.date) -> list[int]:
    return table3.tally(snapshot_facts(rows), on=on)
