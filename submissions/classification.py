"""Data classification of the submissions app (merged by core/classification.py; DP-1).

A round and its submissions are county work: kinds, dates, states and the 附件3 counts
(numbers, never names) are internal. Notes and review comments are free text written by staff
and may name a child or a family: personal. A snapshot row points at history rows of the child
file (the personal data stays in those encrypted rows); its facts are the 附件3 inputs (sex,
birth date, schooling, care arrangement, health, the parents' situation), which describe one
child: personal, and the health part sensitive.
"""

INTERNAL = "internal"
PERSONAL = "personal"
SENSITIVE = "sensitive"

TABLE: dict[str, dict[str, str]] = {
    "submissions.Round": {
        INTERNAL: "id kind title reference_date county due_date state opened_by opened_at approved_at "
        "approved_by cancelled_at cancelled_by counts",
        PERSONAL: "cancel_reason",
    },
    "submissions.TownshipSubmission": {
        INTERNAL: "id round township state submitted_at submitted_by reviewed_at reviewed_by counts",
        PERSONAL: "note review_comment",
    },
    "submissions.VillageSubmission": {
        INTERNAL: "id round township_submission village state confirmed submitted_at submitted_by "
        "reviewed_at reviewed_by files counts",
        PERSONAL: "note review_comment",
    },
    "submissions.SnapshotRow": {
        INTERNAL: "id round village township child child_history father_history mother_history "
        "guardian_history left_behind",
        SENSITIVE: "facts",
    },
}

NOT_ENCRYPTED: dict[str, str] = {
    "submissions.SnapshotRow.facts": (
        "附件3 统计所需的代码值（性别、出生日期、就学、监护类型、身体情况代码、父母状态代码），"
        "按轮次批量读取计数，不含姓名、号码或病情描述；与档案中同样以代码存放的字段同等对待，由访问范围控制（AC-2）"
    ),
}
