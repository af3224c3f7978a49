"""Code lists of the child file (MF42 附件1, R30), in one place."""

from django.db import models


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Health(models.TextChoices):
    HEALTHY = "healthy", "健康"
    DISABLED = "disabled", "残疾"
    ILL = "ill", "患病"


class DisabilityCategory(models.TextChoices):
    VISUAL = "visual", "视力残疾"
    HEARING = "hearing", "听力残疾"
    SPEECH = "speech", "言语残疾"
    PHYSICAL = "physical", "肢体残疾"
    INTELLECTUAL = "intellectual", "智力残疾"
    MENTAL = "mental", "精神残疾"
    MULTIPLE = "multiple", "多重残疾"


class DisabilityGrade(models.TextChoices):
    G1 = "1", "一级"
    G2 = "2", "二级"
    G3 = "3", "三级"
    G4 = "4", "四级"


class Schooling(models.TextChoices):
    KINDERGARTEN = "kindergarten", "幼儿园"
    NOT_IN_KINDERGARTEN = "not_in_kindergarten", "未入园"
    PRIMARY = "primary", "小学"
    JUNIOR = "junior", "初中"
    SENIOR = "senior", "高中"
    VOCATIONAL = "vocational", "中职"
    DROPOUT = "dropout", "辍学"
    NOT_IN_SCHOOL = "not_in_school", "不在学"


class CareType(models.TextChoices):
    """Who actually cares for the child, kept apart from the guardianship rating (R30)."""

    GRANDPARENTS = "grandparents", "（外）祖父母照料"
    RELATIVES = "relatives", "其他亲友照料"
    ONE_PARENT = "one_parent", "父母一方照料"
    ENTRUSTED_ADULT = "entrusted_adult", "其他受委托成年人照料"
    UNSUPERVISED = "unsupervised", "无人监护"
    LIVING_ALONE = "living_alone", "单独居住"


class Rating(models.TextChoices):
    GOOD = "good", "较好"
    FAIR = "fair", "一般"
    POOR = "poor", "差"


class RiskColour(models.TextChoices):
    """The child's risk colour (issue 4): it sets how often the child is visited."""

    RED = "red", "红色"
    ORANGE = "orange", "橙色"
    YELLOW = "yellow", "黄色"
    GREEN = "green", "绿色"


class Status(models.TextChoices):
    ACTIVE = "active", "在册"
    EXITED = "exited", "已退出"


class ExitReason(models.TextChoices):
    AGED_OUT = "aged_16", "年满16周岁"
    AGED_18 = "aged_18", "年满18周岁"  # 困境儿童、事实无人抚养儿童 (R4)
    PARENTS_RETURNED = "parents_returned", "父母返乡"
    MOVED_WITH_PARENTS = "moved_with_parents", "随父母外出"
    MOVED_AWAY = "moved_away", "迁出本地"
    DECEASED = "deceased", "死亡"
    DUPLICATE = "duplicate", "重复登记"
    OTHER = "other", "其他"


class ParentRole(models.TextChoices):
    FATHER = "father", "父亲"
    MOTHER = "mother", "母亲"


class ParentStatus(models.TextChoices):
    AT_HOME = "at_home", "在家"
    AWAY = "away", "外出务工"
    DECEASED = "deceased", "已故"
    MISSING = "missing", "失踪或下落不明"
    IMPRISONED = "imprisoned", "服刑或强制隔离戒毒"


class IncapacityReason(models.TextChoices):
    NONE = "", "—（有监护能力）"
    SERIOUS_ILLNESS = "serious_illness", "重病"
    SERIOUS_DISABILITY = "serious_disability", "重残"
    OTHER = "other", "其他原因"


class Income(models.TextChoices):
    MIGRANT_WORK = "migrant_work", "打工"
    FARMING = "farming", "种养殖"
    GOVERNMENT_AID = "government_aid", "政府救助"
    RELATIVES_HELP = "relatives_help", "亲朋接济"
    OTHER = "other", "其他"


class Assistance(models.TextChoices):
    DIBAO = "dibao", "低保"
    TEKUN = "tekun", "特困供养"
    TEMPORARY = "temporary", "临时救助"
    MEDICAL = "medical", "医疗救助"
    HOUSING = "housing", "住房救助"
    OTHER = "other", "其他"


class KeyReason(models.TextChoices):
    POOR_RATING = "poor_rating", "监护情况差"
    UNSUPERVISED = "unsupervised", "无人监护或单独居住"
    DROPOUT = "dropout", "辍学"
    NO_HUKOU = "no_hukou", "未登记户口"
    DISABLED = "disabled", "残疾"
    ILL = "ill", "患病"
    MANUAL = "manual", "人工认定"


class GuardianRelation(models.TextChoices):
    GRANDFATHER = "grandfather", "祖父"
    GRANDMOTHER = "grandmother", "祖母"
    MATERNAL_GRANDFATHER = "maternal_grandfather", "外祖父"
    MATERNAL_GRANDMOTHER = "maternal_grandmother", "外祖母"
    SIBLING = "sibling", "兄姐"
    UNCLE_AUNT = "uncle_aunt", "叔伯姑舅姨"
    OTHER_RELATIVE = "other_relative", "其他亲属"
    OTHER = "other", "其他成年人"


ETHNICITIES = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
]
ETHNICITY_CHOICES = [(name, name) for name in ETHNICITIES]
