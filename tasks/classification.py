"""Data classification of the tasks app (merged by core/classification.py; DP-1).

A task is county work, not a child's file: its title, units, dates and states are internal.
Free text written by staff (the task's requirements, progress reports, reasons) may name a
child or a family, so it is personal: shown only to the task's units and the county admins
(tasks/access.py). It is not sensitive: no ID, phone or address is asked for, and titles,
which go into notifications, refuse ID and mobile numbers. Templates hold the county plan's
own wording.
"""

INTERNAL = "internal"
PERSONAL = "personal"

TABLE: dict[str, dict[str, str]] = {
    "tasks.TaskTemplate": {
        INTERNAL: "id name plan_section lead_kind lead_name participant_kinds participants description note "
        "position active updated_at updated_by",
    },
    "tasks.Task": {
        INTERNAL: "id county title plan_section lead_unit deadline state template version created_by "
        "created_at done_proposed_at done_proposed_by completed_at completed_by cancelled_at cancelled_by",
        PERSONAL: "description done_proposal_note return_reason completion_note cancel_reason",
    },
    "tasks.TaskParticipant": {INTERNAL: "id task unit added_at added_by"},
    "tasks.TaskProgress": {
        INTERNAL: "id task unit reported_by reported_at percent submission_key",
        PERSONAL: "text",
    },
    "tasks.TaskOverdueNotice": {INTERNAL: "id task on deadline recipients sent_at"},
}
