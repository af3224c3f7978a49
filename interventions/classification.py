"""Data classification of the interventions app (merged by core/classification.py; DP-1).

What was done to a guardian and why is personal (the kinds and codes, like reports' triggers);
free text about the family's situation is sensitive and encrypted.
"""

INTERNAL = "internal"
PERSONAL = "personal"
SENSITIVE = "sensitive"

TABLE: dict[str, dict[str, str]] = {
    "interventions.Guardian": {
        INTERNAL: "id report parent entrusted added_at added_by",
        PERSONAL: "name relation",
    },
    "interventions.Intervention": {
        INTERNAL: "id report guardian unit by submission_key recorded_at voided_at voided_by",
        PERSONAL: "kind on concerns void_reason",
        SENSITIVE: "note",
    },
    "interventions.DutyRefusal": {
        INTERNAL: "id report guardian recorded_by recorded_at ended_by voided_at voided_by",
        PERSONAL: "started_on ended_on void_reason",
        SENSITIVE: "note",
    },
    "interventions.GuardianConcern": {
        INTERNAL: "id report guardian set_at set_by cleared_at cleared_by",
        PERSONAL: "ground",
        SENSITIVE: "basis clear_reason",
    },
    "interventions.Petition": {
        INTERNAL: "id report guardian state filed_by recorded_at",
        PERSONAL: "petitioner_kind petitioner_name grounds court filed_on accepted_on heard_on decided_on "
        "outcome new_guardian_name new_guardian_relation new_guardian_institution protection_order",
        SENSITIVE: "maintenance_note note",
    },
    "interventions.PetitionStep": {
        INTERNAL: "id petition state on by recorded_at",
        SENSITIVE: "note",
    },
}
