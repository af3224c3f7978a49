"""Data classification of the imports app (merged by core/classification.py; DP-1).

A batch holds counts, states and the file's column headers; the user's own file name is
personal (it may name a village or a person). The uploaded file itself sits in the private
upload directory under a generated name. Preview rows hold masked values only: the summary
(name to its first character, masked ID number) and the errors (ID and phone numbers masked)
are personal; the differences are encrypted (health and disability values are sensitive).
"""

INTERNAL = "internal"
PERSONAL = "personal"
SENSITIVE = "sensitive"

TABLE: dict[str, dict[str, str]] = {
    "imports.Batch": {
        INTERNAL: "id created_by unit kind stored_name size sheet_name header_row headers mapping state "
        "round preview_job commit_job total_rows new_count update_count unchanged_count error_count "
        "created_at previewed_at committed_at",
        PERSONAL: "file_name",
    },
    "imports.ImportRow": {
        INTERNAL: "id batch number outcome child child_version",
        PERSONAL: "errors summary",
        SENSITIVE: "diff",
    },
    "imports.ColumnMapping": {INTERNAL: "id unit header_key field_key updated_at"},
}
