"""Template filters of the cases app."""

from django import template

from reports.timeline import STAGES

register = template.Library()


@register.filter
def stage_label(stage: str) -> str:
    """The Chinese name of a timeline stage (报告 / 应急处置 / 评估帮扶 / 监护干预)."""
    return STAGES.get(stage, stage)
