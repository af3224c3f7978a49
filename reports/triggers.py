"""What a mandatory report found (R17, R18): the five triggers of 国发〔2016〕13号 (GF13) merged
with the nine situations of the 2020 强制报告 rules (QZBG Art. 4) into one code list. Each code
keeps its sources; where GF13 and QZBG name the same situation it is one code with both."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Trigger:
    code: str
    label: str
    sources: tuple[str, ...]

    @property
    def source_label(self) -> str:
        return "、".join(SOURCE_LABELS[source] for source in self.sources)


SOURCE_LABELS = {
    "GF13": "国发〔2016〕13号",
    **{f"QZBG-{n}": f"强制报告制度第四条第（{'一二三四五六七八九'[n - 1]}）项" for n in range(1, 10)},
}

TRIGGERS: tuple[Trigger, ...] = (
    Trigger("living_alone", "儿童单独居住生活", ("GF13",)),
    Trigger("abandoned", "被遗弃或长期处于无人照料状态", ("QZBG-6",)),
    Trigger("guardian_failing", "监护人无监护能力或怠于履行监护职责", ("GF13",)),
    Trigger("missing", "失踪、来历不明、被拐卖或被收买", ("GF13", "QZBG-7")),
    Trigger("domestic_violence", "遭受或疑似遭受家庭暴力", ("GF13",)),
    Trigger("unlawful_harm", "遭受或疑似遭受意外伤害或不法侵害", ("GF13",)),
    Trigger("private_injury", "生殖器官或隐私部位遭受或疑似遭受非正常损伤", ("QZBG-1",)),
    Trigger("sexual_abuse_under_14", "不满十四周岁的女性遭受或疑似遭受性侵害、怀孕、流产", ("QZBG-2",)),
    Trigger("sexual_abuse_14_plus", "十四周岁以上女性因遭受或疑似遭受性侵害怀孕、流产", ("QZBG-3",)),
    Trigger(
        "violence_injury",
        "身体多处损伤、严重营养不良或意识不清，存在或疑似存在暴力、欺凌、虐待",
        ("QZBG-4",),
    ),
    Trigger("self_harm_injury", "因自杀、自残、中毒、殴打等非正常原因导致伤残、死亡", ("QZBG-5",)),
    Trigger("organised_begging", "被组织乞讨", ("QZBG-8",)),
    Trigger("other_danger", "其他严重侵害或面临现实危险", ("QZBG-9",)),
)

BY_CODE = {trigger.code: trigger for trigger in TRIGGERS}
CHOICES = [(trigger.code, trigger.label) for trigger in TRIGGERS]
