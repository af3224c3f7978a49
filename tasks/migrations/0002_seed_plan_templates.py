"""The county plan's standing tasks (R28) as task templates, each with a history row.

Lead and participants: the Hepu plan's own assignment where the excerpt in shared/seed shows
it (tasks 二（一）1 and 2, marked [S]); elsewhere the assignment REQUIREMENTS R28 infers from
the GF13 duties, with its "[I] inferred" caveat in the note. The county admin edits them.
"""

from django.db import migrations
from django.utils import timezone

INFERRED = (
    "[I] 推断：合浦县实施方案中本项任务的牵头、参加单位原文未见，此处按国发〔2016〕13号的职责分工推断"
    "（需求文档 R28）。启用前请与县民政局持有的实施方案核对。"
)
RENAMED = "2018—2019 年机构改革后部分单位已更名（如卫计局改为卫生健康局，扶贫办并入乡村振兴局），请按现名核对。"

# name, plan section, lead kind, lead (plan wording), participant kinds, participants (wording),
# default description, note.
TEMPLATES = [
    (
        "强化家庭监护主体责任",
        "三（一）",
        "township_government",
        "各乡镇人民政府",
        ["court", "procuratorate", "education", "police_bureau", "civil_affairs", "justice"],
        "县人民法院、县人民检察院、县教育局、县公安局、县民政局、县司法局",
        "督促外出务工父母依法履行监护责任和抚养、教育义务；父母双方外出的，应委托有监护能力的亲属或其他成年人"
        "代为监护照料，不得让不满16周岁的儿童脱离监护单独居住生活；父母外出前或变更地址的，将务工地点、联系方式"
        "和委托监护情况告知村（居）民委员会和学校；监护人不依法履行监护责任的，及时劝诫、制止。",
        "[S] 合浦县实施方案原文（二（一）1）：牵头单位：各乡镇人民政府；参加单位：县人民法院、检察院、教育局、"
        "公安局、民政局、司法局。需求文档 R28 推断的分工（[I]：牵头县民政局；参加县公安局、各镇、县妇联、"
        "县司法局）与原文不符，此处按原文。",
    ),
    (
        "落实乡镇人民政府和村（居）民委员会职责",
        "三（二）",
        "township_government",
        "各乡镇人民政府",
        ["civil_affairs", "village_committee"],
        "县民政局、各行政村及社区",
        "村（居）民委员会定期走访、全面排查，掌握农村留守儿童数量、家庭、监护和就学情况并向乡镇人民政府报告；"
        "乡镇人民政府建立信息台账，一人一档案，实行动态管理；通过党员干部上门家访、驻村干部探访、社会工作者随访"
        "对重点对象进行核查；县民政局提供政策指导和技术支持。",
        "[S] 合浦县实施方案原文（二（一）2）：牵头单位：各乡镇人民政府；参加单位：县民政局、各行政村及社区。"
        "需求文档 R28 推断的参加单位另有县公安局、县教育局。",
    ),
    (
        "加大教育部门和学校关爱保护力度",
        "三（三）",
        "education",
        "县教育局",
        ["township_government", "police_bureau"],
        "各镇、县公安局、县财政局",
        "完善控辍保学机制，督促监护人送适龄儿童、少年入学并完成义务教育；学校建立农村留守儿童档案，加强心理健康"
        "教育和安全教育，与家长、受委托监护人保持联系。",
        "任务名称见合浦县实施方案（二（一）3），分工部分原文未见。" + INFERRED,
    ),
    (
        "发挥群团组织关爱服务优势",
        "三（四）",
        "womens_federation",
        "县妇联、团县委",
        ["youth_league"],
        "县总工会、县残联、县关工委",
        "发挥妇联、共青团、工会、残联、关工委等群团组织优势，开展家庭教育指导、心理疏导、志愿服务和关爱活动。",
        INFERRED + "牵头写作“县妇联 / 团县委”，预选按县妇联。",
    ),
    (
        "推动社会力量积极参与",
        "三（五）",
        "civil_affairs",
        "县民政局",
        [],
        "县财政局、税务部门",
        "通过政府购买服务等方式，支持社会组织、社会工作者和志愿者为农村留守儿童提供关爱服务。",
        INFERRED,
    ),
    (
        "建立强制报告和应急处置机制",
        "四（一）（二）",
        "police_bureau",
        "县公安局",
        ["education", "health", "civil_affairs", "township_government"],
        "县教育局、县卫计局、县民政局、各镇",
        "学校、医疗机构、村（居）民委员会、社会工作服务机构等发现儿童面临不法侵害或危险时立即向公安机关报告；"
        "公安机关接到报告后第一时间出警调查，采取应急处置措施。",
        INFERRED + RENAMED,
    ),
    (
        "健全评估帮扶机制",
        "四（三）",
        "township_government",
        "各乡镇人民政府",
        ["civil_affairs", "police_bureau", "health", "justice"],
        "县民政局、县公安局、县卫计局、县司法局",
        "乡镇人民政府会同民政、公安等部门对农村留守儿童的安全处境、监护情况、身心健康状况进行评估，"
        "分类落实帮扶措施。",
        INFERRED + RENAMED,
    ),
    (
        "强化监护干预机制",
        "四（四）",
        "police_bureau",
        "县公安局、县民政局",
        ["court", "procuratorate", "justice"],
        "县法院、县检察院、县司法局",
        "对监护人严重侵害农村留守儿童权益的，依法予以训诫、处罚或追究刑事责任；符合条件的，依法申请撤销监护人"
        "资格，另行指定监护人。",
        INFERRED + "牵头写作“县公安局 / 县民政局”，预选按县公安局。",
    ),
    (
        "落实户口登记",
        "",
        "police_bureau",
        "县公安局",
        ["civil_affairs", "health"],
        "县民政局、县卫计局",
        "对排查中发现的无户籍农村留守儿童，由公安机关依法登记户口。",
        INFERRED + "户口登记不在国发〔2016〕13号中，见“合力监护、相伴成长”专项行动（需求文档 R23）。" + RENAMED,
    ),
    (
        "从源头上逐步减少儿童留守现象",
        "五",
        "",
        "县人社局、县发改局",
        ["education"],
        "县住建局、县教育局、县农业局、县扶贫办",
        "为外出务工人员携带子女共同生活创造条件；促进农民工返乡创业就业，提供培训和就业、项目信息。",
        INFERRED + "牵头单位在本系统中没有对应的单位类型，请手工选择。" + RENAMED,
    ),
    (
        "强化经费保障和宣传引导",
        "六",
        "",
        "县财政局、县委宣传部",
        ["civil_affairs", "womens_federation"],
        "县民政局、县妇联",
        "落实农村留守儿童关爱保护工作经费；加强政策宣传，营造全社会关爱农村留守儿童的良好氛围。",
        INFERRED + "牵头单位在本系统中没有对应的单位类型，请手工选择。",
    ),
]

FIELDS = ("name", "plan_section", "lead_kind", "lead_name", "participant_kinds", "participants", "description", "note")


def seed(apps, schema_editor):
    Template = apps.get_model("tasks", "TaskTemplate")
    History = apps.get_model("tasks", "HistoricalTaskTemplate")
    now = timezone.now()
    for position, row in enumerate(TEMPLATES, start=1):
        values = dict(zip(FIELDS, row, strict=True))
        template, created = Template.objects.get_or_create(
            name=values["name"], defaults={**values, "position": position * 10, "updated_at": now}
        )
        if created:
            History.objects.create(
                id=template.id,
                **{name: getattr(template, name) for name in FIELDS},
                position=template.position,
                active=template.active,
                updated_at=template.updated_at,
                updated_by=None,
                history_date=now,
                history_type="+",
                history_change_reason="实施方案常设任务（初始模板）",
            )


def unseed(apps, schema_editor):
    Template = apps.get_model("tasks", "TaskTemplate")
    Template.objects.filter(name__in=[row[0] for row in TEMPLATES], tasks__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("tasks", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
