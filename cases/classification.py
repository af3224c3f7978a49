"""Data classification of the cases app (merged by core/classification.py; DP-1)."""

INTERNAL = "internal"
PERSONAL = "personal"
SENSITIVE = "sensitive"

TABLE: dict[str, dict[str, str]] = {
    "cases.Case": {
        INTERNAL: "id report child township state opened_at opened_by close_requested_at close_requested_by "
        "closed_at closed_by version",
        PERSONAL: "risk",
        SENSITIVE: "close_reason",
    },
    "cases.CaseTransition": {
        INTERNAL: "id case kind from_state to_state at by",
        SENSITIVE: "reason",
    },
    "cases.Assessment": {
        INTERNAL: "id case recorded_by recorded_at",
        PERSONAL: "assessed_on participants safety guardianship risk dibao_status tekun_status "
        "temporary_relief_status",
        SENSITIVE: "physical_health mental_health notes",
    },
    "cases.Measure": {
        INTERNAL: "id case unit due_on status is_referral assigned_at assigned_by responded_at responded_by "
        "completed_at completed_by cancelled_at cancelled_by",
        PERSONAL: "kind decline_reason cancel_reason",
        SENSITIVE: "note progress_note",
    },
    "cases.FollowUp": {
        INTERNAL: "id case due_on assigned_to scheduled_at scheduled_by done_on done_by done_at",
        SENSITIVE: "note",
    },
}

_CODED = "编码值（良好/有隐患/严重），不含病情细节，用于风险研判；只由个案的知悉人员读取（cases/access.py）"

NOT_ENCRYPTED: dict[str, str] = {
    "cases.Assessment.physical_health": _CODED,
    "cases.Assessment.mental_health": _CODED,
}
