"""Data classification of the training app (merged by core/classification.py; DP-1).

Sessions are the county's work records: their topic, dates, hours, organiser and audience
are internal. The trainer's name and a guest attendee's name and unit name people, so they
are personal (as accounts.User.full_name is); so is the free-text note, which may name
people. Which worker attended which session is personal too, but the row holds keys only.
"""

INTERNAL = "internal"
PERSONAL = "personal"

TABLE: dict[str, dict[str, str]] = {
    "training.TrainingSession": {
        INTERNAL: "id county organiser topic held_on hours place audience version created_by created_at",
        PERSONAL: "trainer note",
    },
    "training.Attendance": {
        INTERNAL: "id session user added_at added_by",
        PERSONAL: "guest_name guest_unit",
    },
}
