"""DP-1: every field of every project model has a level in core/classification.py, and every
sensitive field is encrypted or exempted with a reason."""

from django.db import models
from django.test.utils import isolate_apps

from core import classification as dc
from core.fields import EncryptedCharField

PROJECT_APPS = {"core", "geo", "accounts", "audit", "registry", "jobs"}


def unclassified(found: list[type[models.Model]]) -> list[str]:
    return sorted(
        f"{model._meta.label}.{field.name}"
        for model in found
        for field in model._meta.concrete_fields
        if dc.level_of(model, field) not in dc.LEVELS
    )


def unencrypted_sensitive(found: list[type[models.Model]]) -> list[str]:
    return sorted(
        f"{model._meta.label}.{field.name}"
        for model in found
        for field in model._meta.concrete_fields
        if dc.level_of(model, field) == dc.SENSITIVE
        and not isinstance(field, EncryptedCharField)
        and dc.field_label(model, field) not in dc.NOT_ENCRYPTED
    )


def test_it_finds_the_project_apps_and_their_history_models() -> None:
    labels = {model._meta.label for model in dc.project_models()}
    assert {model.split(".")[0] for model in labels} >= PROJECT_APPS
    assert {"registry.HistoricalChild", "accounts.User"} <= labels
    assert not any(label.startswith(("auth.", "simple_history.", "django_otp", "axes.")) for label in labels)


def test_it_classifies_every_field() -> None:
    assert unclassified(dc.project_models()) == []


def test_it_encrypts_every_sensitive_field_not_exempted() -> None:
    assert unencrypted_sensitive(dc.project_models()) == []


def test_it_lists_no_stale_entries() -> None:
    present = {
        f"{model._meta.label}.{field.name}"
        for model in dc.project_models()
        for field in model._meta.concrete_fields
    }
    assert sorted(set(dc.CLASSIFICATION) - present) == []
    assert [label for label in dc.NOT_ENCRYPTED if dc.CLASSIFICATION.get(label) != dc.SENSITIVE] == []
    encrypted = {
        f"{model._meta.label}.{field.name}"
        for model in dc.project_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedCharField)
    }
    assert sorted(encrypted & set(dc.NOT_ENCRYPTED)) == []
    assert all(reason.strip() for reason in dc.NOT_ENCRYPTED.values())


def test_it_gives_history_models_their_base_levels() -> None:
    from registry.models import Child

    history = Child.history.model  # type: ignore[attr-defined]
    assert dc.level_of(history, history._meta.get_field("id_number")) == dc.SENSITIVE
    assert dc.level_of(history, history._meta.get_field("history_user")) == dc.INTERNAL
    assert "registry.HistoricalChild.current_address" in dc.fields_of(dc.SENSITIVE)


@isolate_apps("core")
def test_it_reports_a_new_unclassified_or_plain_sensitive_field() -> None:
    class Newcomer(models.Model):  # noqa: DJ008
        note = models.CharField(max_length=10)

        class Meta:
            app_label = "core"

    class Plain(models.Model):  # noqa: DJ008
        note = models.CharField(max_length=10)

        class Meta:
            app_label = "core"

    dc.CLASSIFICATION["core.Plain.id"] = dc.INTERNAL
    dc.CLASSIFICATION["core.Plain.note"] = dc.SENSITIVE
    try:
        assert unclassified([Newcomer]) == ["core.Newcomer.id", "core.Newcomer.note"]
        assert unencrypted_sensitive([Plain]) == ["core.Plain.note"]
    finally:
        del dc.CLASSIFICATION["core.Plain.id"], dc.CLASSIFICATION["core.Plain.note"]
