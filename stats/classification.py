"""Data classification of the stats app (merged by core/classification.py; DP-1).

Counts per region, category and coded value, and work indicators per region: aggregates
with no person in them, so every field is internal.
"""

INTERNAL = "internal"

TABLE: dict[str, dict[str, str]] = {
    "stats.ChildCount": {INTERNAL: "id region level category dimension value count computed_at"},
    "stats.CountSnapshot": {INTERNAL: "id month region level category dimension value count taken_at"},
    "stats.Indicator": {INTERNAL: "id region level code numerator denominator value computed_at"},
    "stats.RefreshState": {INTERNAL: "key refreshed_at started_at full_at"},
}
