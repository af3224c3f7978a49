"""Data classification (SECURITY.md DP-1): every concrete field of every project model.

Levels:
- public: may be published (NBS region codes and names, names of public bodies).
- internal: operational metadata with no personal content (keys, states, timestamps).
- personal: personal information shown to users within their scope (names, birth dates,
  family situation, staff names, IP addresses, free-text reasons).
- sensitive: identifiers, contact and location details, health and credentials. These are
  encrypted at rest (core/fields.py) unless NOT_ENCRYPTED names them with the reason.

A field is named "app_label.ModelName.field_name". simple_history's historical models take
the level of their base model's field; their own history_* fields are internal.
core/tests/test_classification.py fails on any unclassified field, on any sensitive field that
is neither encrypted nor listed in NOT_ENCRYPTED, and on stale entries here.
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models

PUBLIC = "public"
INTERNAL = "internal"
PERSONAL = "personal"
SENSITIVE = "sensitive"
LEVELS = (PUBLIC, INTERNAL, PERSONAL, SENSITIVE)

# model label → level → field names (space separated).
_TABLE: dict[str, dict[str, str]] = {
    "core.InstanceFlag": {INTERNAL: "id key value set_at"},
    "geo.Region": {INTERNAL: "id", PUBLIC: "code name level parent valid_from valid_to successor"},
    "geo.Unit": {INTERNAL: "id active", PUBLIC: "name kind region"},
    "accounts.User": {
        INTERNAL: "id last_login is_superuser is_staff is_active date_joined must_change_password "
        "password_changed_at valid_until enabled_at",
        PERSONAL: "username first_name last_name email full_name disabled_reason",
        SENSITIVE: "password",
    },
    "accounts.RoleGrant": {INTERNAL: "id user role unit region active granted_at granted_by"},
    "accounts.PasswordHistory": {INTERNAL: "id user created_at", SENSITIVE: "password"},
    "accounts.UserSession": {INTERNAL: "expire_date user", SENSITIVE: "session_key session_data"},
    "accounts.SecurityPolicy": {
        INTERNAL: "id password_max_age_days session_idle_minutes session_absolute_hours dormant_days "
        "updated_at updated_by"
    },
    "audit.AuditEvent": {
        INTERNAL: "id at user roles action outcome object_type object_id request_id prev_hash hash",
        PERSONAL: "username ip reason detail",
    },
    "audit.Alert": {
        INTERNAL: "id at kind subject region child recipient_roles event",
        PERSONAL: "subject_username message",
    },
    "audit.EmergencyAccess": {INTERNAL: "id user child granted_at expires_at", PERSONAL: "reason"},
    "registry.Child": {
        INTERNAL: "id file_no version status created_at updated_at created_by",
        PERSONAL: "name name_pinyin name_initials sex ethnicity id_tail birth_date hukou_registered "
        "hukou_rural schooling school grade boarding village township county income_sources assistance "
        "care_type guardianship_rating is_left_behind is_in_difficulty is_de_facto_orphan is_key "
        "key_reasons key_manual key_manual_reason exit_reason exit_date exit_note "
        "risk_colour risk_reasons last_visit_on next_visit_due last_parent_contact_on agreement_required "
        "agreement_valid_until care_computed_at",
        SENSITIVE: "id_number id_index hukou_place current_address household_address health "
        "disability_category disability_grade illness",
    },
    "registry.Parent": {
        INTERNAL: "id child",
        PERSONAL: "role name birth_date status work_province work_city away_since unreachable "
        "unreachable_since",
        SENSITIVE: "id_number id_index phone phone_index work_detail incapacity_reason incapacity_note",
    },
    "registry.EntrustedGuardian": {
        INTERNAL: "id child assessed_on",
        PERSONAL: "name relation check_adult_full_capacity check_able_to_care check_no_abuse "
        "check_no_addiction check_no_neglect check_no_other_unsuitable check_child_view assessed_by",
        SENSITIVE: "id_number id_index phone phone_index address",
    },
    "registry.Assignment": {INTERNAL: "id child user role active assigned_at assigned_by"},
    "registry.UnitAssignment": {
        INTERNAL: "id child unit source measure_id active assigned_at assigned_by ended_at",
        PERSONAL: "note",
    },
    "jobs.Job": {
        INTERNAL: "id kind idempotency_key state attempts max_attempts lease_until progress_current "
        "progress_total task_id created_by created_at enqueued_at started_at finished_at updated_at",
        PERSONAL: "payload result error",
    },
    "jobs.DrillEffect": {INTERNAL: "id job attempt created_at"},
    "jobs.JobProgress": {INTERNAL: "job_id current total updated_at"},
    # Entrusted guardianship (guardianship app). The template is county wording, no one's data;
    # an agreement's frozen text names the parties. The scan itself sits in the private storage
    # (core/storage.py); the row holds its generated name only.
    "guardianship.AgreementTemplate": {INTERNAL: "id county version title body duties updated_at updated_by"},
    "guardianship.GuardianshipAgreement": {
        INTERNAL: "id child guardian template template_version status scan scan_kind created_at created_by",
        PERSONAL: "guardian_name guardian_relation child_name father_name mother_name title text duties "
        "valid_from valid_until signed_on",
    },
    "guardianship.DutyAcknowledgement": {
        INTERNAL: "id child role guardian parent template template_version recorded_at recorded_by",
        PERSONAL: "person_name acknowledged_on",
    },
    # Parents' notices and parent–child contacts (contact app).
    "contact.ParentNotice": {
        INTERNAL: "id child parent recorded_at recorded_by voided_at voided_by",
        PERSONAL: "notified_on channel told_village told_school work_province work_city void_reason",
        SENSITIVE: "work_detail new_phone new_phone_index note",
    },
    "contact.ParentContact": {
        INTERNAL: "id child submission_key recorded_at recorded_by arranged_by voided_at voided_by",
        PERSONAL: "contacted_on kind with_whom duration_minutes void_reason",
        SENSITIVE: "note",
    },
    "work.LifeEventProposal": {
        INTERNAL: "id child child_version decided_by decided_at created_at",
        PERSONAL: "kind proposed_on facts state",
        SENSITIVE: "note",
    },
    # Counts only (how many overdue, due…), never names.
    "work.ReminderDigest": {INTERNAL: "id user on counts sent_at"},
    "care.CarePolicy": {
        INTERNAL: "id county red_days orange_days yellow_days green_days contact_limit_days "
        "agreement_warning_days aging_warning_days service_gap_days conditions updated_at updated_by",
    },
    "care.Visit": {
        INTERNAL: "id child visitor submission_key created_at",
        PERSONAL: "visited_on kind visitor_role present present_other guardian_at_home guardian_capable "
        "living_conditions_ok hazards_found attending_school parent_contact_recent follow_up_needed "
        "new_rating new_care_type",
        SENSITIVE: "health_ok emotional_ok hazards_note notes follow_up_note",
    },
    # The photo itself sits in the private storage (core/storage.py); the row holds no content.
    "care.VisitPhoto": {INTERNAL: "id visit file_name content_type size sha256 created_at"},
    "notify.Notification": {
        INTERNAL: "id recipient kind link child created_at read_at",
        PERSONAL: "title body",
    },
    "notify.Delivery": {
        INTERNAL: "id notification channel state attempts max_attempts last_error sent_at created_at job",
        PERSONAL: "address_hint",
    },
    "notify.RecipientAddress": {INTERNAL: "id user updated_at", SENSITIVE: "phone email"},
}

# Apps that keep their table beside their models: `<app>/classification.py` with TABLE (same
# shape as _TABLE) and, optionally, NOT_ENCRYPTED (label → reason). Plain constants: importing
# them loads no models.
APP_TABLES = (
    "reports",
    "cases",
    "interventions",
    "schooling",
    "tasks",
    "imports",
    "submissions",
    "stats",
    "providers",
    "activities",
    "training",
)


def _app_tables() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    import importlib

    tables: dict[str, dict[str, str]] = {}
    reasons: dict[str, str] = {}
    for app in APP_TABLES:
        try:
            module = importlib.import_module(f"{app}.classification")
        except ModuleNotFoundError as error:
            if error.name in (app, f"{app}.classification"):
                continue
            raise
        clash = set(module.TABLE) & (set(_TABLE) | set(tables))
        assert not clash, f"{app}: classified twice: {sorted(clash)}"
        tables.update(module.TABLE)
        reasons.update(getattr(module, "NOT_ENCRYPTED", {}))
    return tables, reasons


_APP_TABLE, _APP_NOT_ENCRYPTED = _app_tables()
_TABLE.update(_APP_TABLE)

CLASSIFICATION: dict[str, str] = {
    f"{model}.{name}": level
    for model, levels in _TABLE.items()
    for level, names in levels.items()
    for name in names.split()
}

_HASH = "单向哈希（Argon2/PBKDF2），不可还原，加密无益"
_INDEX = "盲索引：HMAC-SHA256 派生值（SHOUHU_INDEX_KEY），用于精确检索和唯一约束，不可还原"
_CODED = "编码值，用于重点对象规则、台账筛选和统计；由访问范围控制（AC-2）"
_FREE_TEXT = "自由文本，尚未列入加密字段（issue 3 第 4 项的决定清单）；候选加密字段，见 docs/security.md"

# Sensitive fields stored without encryption, each with the reason.
NOT_ENCRYPTED: dict[str, str] = {
    "accounts.User.password": _HASH,
    "accounts.PasswordHistory.password": _HASH,
    "accounts.UserSession.session_key": "每个请求按原值查找的随机会话令牌，最长 8 小时有效；无法加密后查找",
    "accounts.UserSession.session_data": (
        "Django 会话数据（用户 id、认证 HMAC、OTP 设备 id），已用 SECRET_KEY 签名；不含个人信息"
    ),
    "registry.Child.id_index": _INDEX,
    "registry.Parent.id_index": _INDEX,
    "registry.Parent.phone_index": _INDEX,
    "registry.EntrustedGuardian.id_index": _INDEX,
    "registry.EntrustedGuardian.phone_index": _INDEX,
    "contact.ParentNotice.new_phone_index": _INDEX,
    "registry.Child.health": _CODED,
    "registry.Child.disability_category": _CODED,
    "registry.Child.disability_grade": _CODED,
    "registry.Parent.incapacity_reason": _CODED,
    "registry.Child.illness": _FREE_TEXT,
    "care.Visit.health_ok": "走访核查结果（是/否），不含病情细节；由访问范围控制（AC-2）",
    "care.Visit.emotional_ok": "走访核查结果（是/否），不含心理状况细节；由访问范围控制（AC-2）",
    "registry.Parent.incapacity_note": _FREE_TEXT,
}
NOT_ENCRYPTED.update(_APP_NOT_ENCRYPTED)

HISTORY_FIELDS = frozenset(
    {"history_id", "history_date", "history_change_reason", "history_type", "history_user"}
)


def project_models() -> list[type[models.Model]]:
    """Models of the apps whose code lives in this project (inside BASE_DIR, not in .venv)."""
    base = Path(settings.BASE_DIR).resolve()
    found: list[type[models.Model]] = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if base in path.parents and ".venv" not in path.relative_to(base).parts:
            found.extend(config.get_models())
    return found


def base_model(model: type[models.Model]) -> type[models.Model] | None:
    """The tracked model of a simple_history historical model, else None."""
    tracked = getattr(model, "instance_type", None)
    if isinstance(tracked, type) and issubclass(tracked, models.Model) and tracked._meta.auto_created:
        return None  # the history of a many-to-many field: classified under its own label
    return tracked if isinstance(tracked, type) and issubclass(tracked, models.Model) else None


def field_label(model: type[models.Model], field: models.Field[object, object]) -> str:
    """The CLASSIFICATION key that decides a field's level (a historical field's base field)."""
    tracked = base_model(model)
    return f"{(tracked or model)._meta.label}.{field.name}"


def level_of(model: type[models.Model], field: models.Field[object, object]) -> str | None:
    if base_model(model) is not None and field.name in HISTORY_FIELDS:
        return INTERNAL
    return CLASSIFICATION.get(field_label(model, field))


def fields_of(level: str) -> list[str]:
    """Labels of every project field at `level` (docs and reports)."""
    return sorted(
        f"{model._meta.label}.{field.name}"
        for model in project_models()
        for field in model._meta.concrete_fields
        if level_of(model, field) == level
    )
