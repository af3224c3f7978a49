"""Data classification of the activities app (merged by core/classification.py; DP-1).

An activity (kind, title, place, date, organiser) is internal: it names no person. Who took
part is personal: a child at an activity, the outcome noted for the child, the names of
guardians and parents (encrypted, core.fields) and of volunteers with their hours.
"""

INTERNAL = "internal"
PERSONAL = "personal"

TABLE: dict[str, dict[str, str]] = {
    "activities.Activity": {
        INTERNAL: "id kind title organiser provider county township village place held_on target_group "
        "note version created_at created_by",
    },
    "activities.Participation": {
        INTERNAL: "id activity recorded_at recorded_by",
        PERSONAL: "child attended outcome",
    },
    "activities.AdultParticipant": {
        INTERNAL: "id activity",
        PERSONAL: "name relation child",
    },
    "activities.VolunteerService": {
        INTERNAL: "id activity",
        PERSONAL: "name team user hours",
    },
}
