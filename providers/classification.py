"""Data classification of the providers app (merged by core/classification.py; DP-1).

A provider is an organisation: its services, description and contracts are internal
(county work, no person in them). The contact person's name is personal; the contact phone is
sensitive and encrypted (core.fields), shown masked with a logged reveal. The address is an
organisation's (a children's home, an office), not a family's: personal, not sensitive.
"""

INTERNAL = "internal"
PERSONAL = "personal"
SENSITIVE = "sensitive"

TABLE: dict[str, dict[str, str]] = {
    "providers.Provider": {
        INTERNAL: "id unit services description active version created_at created_by",
        PERSONAL: "contact_name address",
        SENSITIVE: "contact_phone",
    },
    "providers.Contract": {
        INTERNAL: "id provider purchaser county title number starts_on ends_on amount version "
        "created_at created_by",
        PERSONAL: "note",  # staff's free text: may name someone
    },
    "providers.ContractItem": {INTERNAL: "id contract kind planned_sessions planned_children"},
    # simple_history's table of the covered townships at each version of a contract.
    "providers.HistoricalContract_townships": {INTERNAL: "id m2m_history_id contract history region"},
}
