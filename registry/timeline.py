"""The file's timeline: every change to the child, parents and guardian, field by field."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from core.masking import mask_id, mask_phone
from registry.models import Child, EntrustedGuardian, Parent

MASKED_ID_FIELDS = {"id_number"}
MASKED_PHONE_FIELDS = {"phone"}
HIDDEN_FIELDS = {"version", "updated_at", "created_at", "is_key", "id"}
KIND_LABELS = {"+": "建立", "~": "修改", "-": "删除"}


@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str


@dataclass
class Event:
    at: dt.datetime
    user: str
    section: str
    kind: str
    reason: str = ""
    version: int | None = None
    changes: list[Change] = field(default_factory=list)


def _display(model: type[models.Model], name: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if name in MASKED_ID_FIELDS:
        return mask_id(str(value))
    if name in MASKED_PHONE_FIELDS:
        return mask_phone(str(value))
    model_field = _field(model, name)
    if model_field.choices:
        labels = dict(model_field.flatchoices)
        if isinstance(value, list):
            return "、".join(str(labels.get(v, v)) for v in value)
        return str(labels.get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(model_field, models.ForeignKey):
        related = model_field.related_model._default_manager.filter(pk=value).first()  # type: ignore[union-attr]
        return str(related) if related else "—"
    return str(value)


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    found = model._meta.get_field(name)
    assert isinstance(found, models.Field)  # history diffs name concrete fields only
    return found


def _label(model: type[models.Model], name: str) -> str:
    return str(_field(model, name).verbose_name)


def _events_for(records: list[Any], model: type[models.Model], section: str) -> list[Event]:
    events: list[Event] = []
    previous = None
    for record in records:  # oldest first
        event = Event(
            at=record.history_date,
            user=str(record.history_user) if record.history_user else "系统",
            section=section,
            kind=KIND_LABELS.get(record.history_type, record.history_type),
            reason=record.history_change_reason or "",
            version=getattr(record, "version", None),
        )
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous)
            for change in delta.changes:
                if change.field in HIDDEN_FIELDS:
                    continue
                event.changes.append(
                    Change(
                        field=change.field,
                        label=_label(model, change.field),
                        old=_display(model, change.field, change.old),
                        new=_display(model, change.field, change.new),
                    )
                )
            if not event.changes and not event.reason:
                previous = record
                continue
        events.append(event)
        previous = record
    return events


# Other apps' events on the file (activities: participations), registered in their
# AppConfig.ready(): each source gives the child's events, merged by child_timeline().
Source = Callable[[Child], list[Event]]
_SOURCES: list[Source] = []


def register_source(source: Source) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def child_timeline(child: Child, *, sources: bool = True) -> list[Event]:
    """Newest first. Parents and guardian appear as their own sections; with `sources`, the
    registered sources' events too (not for changes_since: those are not edits of the file)."""
    events = _events_for(
        list(child.history.select_related("history_user").order_by("history_date", "history_id")),
        Child,
        "儿童基本信息",
    )
    parent_history = Parent.history.filter(child_id=child.pk).select_related("history_user")
    for parent_id in {r.id for r in parent_history}:
        records = [r for r in parent_history.order_by("history_date", "history_id") if r.id == parent_id]
        section = "父亲" if records[0].role == "father" else "母亲"
        events.extend(_events_for(records, Parent, section))
    guardian_history = list(
        EntrustedGuardian.history.filter(child_id=child.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    for guardian_id in {r.id for r in guardian_history}:
        records = [r for r in guardian_history if r.id == guardian_id]
        events.extend(_events_for(records, EntrustedGuardian, "受委托监护人"))
    for source in _SOURCES if sources else ():
        events.extend(source(child))
    events.sort(key=lambda e: e.at, reverse=True)
    return events


def changes_since(child: Child, version: int) -> list[Event]:
    """What others changed after the editor loaded `version` (shown on a refused save)."""
    loaded = child.history.filter(version=version).order_by("-history_date").first()
    if loaded is None:
        return child_timeline(child, sources=False)
    return [event for event in child_timeline(child, sources=False) if event.at > loaded.history_date]
