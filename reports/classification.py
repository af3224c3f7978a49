"""Data classification of the reports app (merged by core/classification.py; DP-1)."""

INTERNAL = "internal"
PERSONAL = "personal"
SENSITIVE = "sensitive"

TABLE: dict[str, dict[str, str]] = {
    "reports.Report": {
        INTERNAL: "id child county township reporter reporter_unit routed_unit routed_at state "
        "acknowledged_at acknowledged_by attended_at attended_by township_notified_at township_notified_by "
        "escalation_level feedback_by "
        "submission_key version reported_at feedback_at",
        PERSONAL: "unknown_sex unknown_age triggers found_at reporter_role feedback",
        SENSITIVE: "unknown_name found_place description",
    },
    "reports.ReportRouting": {INTERNAL: "id report unit routed_at routed_by", PERSONAL: "reason"},
    "reports.ReportEscalation": {INTERNAL: "id report level escalated_at notified"},
    "reports.ReportMember": {INTERNAL: "id report user kind active named_at named_by ended_at"},
    "reports.ResponseAction": {
        INTERNAL: "id report kind done_at recorded_by recorded_at",
        SENSITIVE: "note",
    },
    "reports.Placement": {
        INTERNAL: "id report recorded_by recorded_at",
        PERSONAL: "kind started_on ended_on",
        SENSITIVE: "place return_assessment",
    },
    "reports.ProtectionPolicy": {
        INTERNAL: "id county escalate_after_minutes escalate_again_minutes updated_at updated_by"
    },
}
