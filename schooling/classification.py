"""Data classification of the schooling app (merged by core/classification.py; DP-1).

The reasons for an absence or dropout, the notes of a persuasion attempt and of a hukou
registration describe a family's situation: sensitive, encrypted (core.fields). The
participants of an attempt are staff roles and names: personal.
"""

INTERNAL = "internal"
PERSONAL = "personal"
SENSITIVE = "sensitive"

TABLE: dict[str, dict[str, str]] = {
    "schooling.DropoutCase": {
        INTERNAL: "id child school state reported_by escalated_at escalated_by closed_at closed_by "
        "created_at",
        PERSONAL: "kind first_missed_on reported_on schooling_before returned_on",
        SENSITIVE: "reason outcome_reason",
    },
    "schooling.PersuasionAttempt": {
        INTERNAL: "id case attempted_by recorded_at",
        PERSONAL: "attempted_on participants method outcome",
        SENSITIVE: "note",
    },
    "schooling.HukouTask": {
        INTERNAL: "id child police_unit created_at created_by registered_by",
        PERSONAL: "due_on registered_on",
        SENSITIVE: "note",
    },
}
