"""The agreement as an A4 PDF with embedded Chinese text (fpdf2).

The font is a GB 2312 subset of Noto Serif CJK SC (guardianship/fonts, SIL OFL 1.1); fpdf2
embeds only the glyphs used, with a ToUnicode map, so the text can be searched, copied and
extracted (tests/test_agreement_pdf.py reads it back). Characters outside the subset (a rare
name character) print as the font's missing-glyph box; the HTML print view has no such limit, and
the agreement page names such characters (missing_characters) and says to print from there.
"""

import functools
import re
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from guardianship.models import GuardianshipAgreement

FONT = Path(__file__).resolve().parent / "fonts" / "ShouhuSerifSC-Regular.ttf"
FAMILY = "shouhu-serif"
LINE = 7.2  # mm, for 12 pt text
SIGNATURES = (
    "委托人（父亲）签字：",
    "委托人（母亲）签字：",
    "受委托监护人签字：",
    "村（居）民委员会见证（盖章）：",
)
SIGN_LINE = "＿＿＿＿＿＿＿＿"
DATE_LINE = "日期：＿＿＿＿年＿＿月＿＿日"


class _Document(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FAMILY, size=9)
        self.cell(0, 10, f"第 {self.page_no()} 页，共 {{nb}} 页", align=Align.C)


# Chinese line breaking: no line starts with closing punctuation (it hangs at the end of the
# line before, inside the margin) and none ends with an opening one; runs of Latin letters and
# digits (dates, numbers) are not split.
NO_LINE_START = frozenset("，。、；：？！）》」』】〕…”’,.;:?!)")
NO_LINE_END = frozenset("（《「『【〔“‘(")
_TOKEN = re.compile(r"[A-Za-z0-9]+|.")


def wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    lines: list[str] = []
    line, used = "", 0.0
    for token in _TOKEN.findall(text):
        size = pdf.get_string_width(token)
        if line and used + size > width and token[0] not in NO_LINE_START:
            carry = ""
            while line and line[-1] in NO_LINE_END:
                line, carry = line[:-1], line[-1] + carry
            lines.append(line)
            line, used = carry, pdf.get_string_width(carry)
        line += token
        used += size
    if line:
        lines.append(line)
    return lines


def _paragraphs(pdf: FPDF, text: str, *, size: float = 12) -> None:
    pdf.set_font(FAMILY, size=size)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for paragraph in text.splitlines():
        if not paragraph.strip():
            pdf.ln(LINE / 3)
            continue
        for line in wrap(pdf, paragraph, width):
            pdf.cell(0, LINE, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(LINE / 4)


def _heading(pdf: FPDF, text: str, *, size: float) -> None:
    pdf.set_font(FAMILY, size=size)
    pdf.multi_cell(0, size * 0.6, text, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _signatures(pdf: FPDF) -> None:
    """The signature lines, kept together on one page: a line to sign on after each label,
    and a date to fill in."""
    row = LINE * 2
    if pdf.will_page_break(row * len(SIGNATURES) + LINE):
        pdf.add_page()
    pdf.ln(LINE)
    pdf.set_font(FAMILY, size=12)
    left = pdf.l_margin
    for label in SIGNATURES:
        pdf.cell(pdf.get_string_width(label) + 1, row, label)
        baseline = pdf.get_y() + row * 0.7
        pdf.line(pdf.get_x(), baseline, left + 105, baseline)
        pdf.set_x(left + 110)
        pdf.cell(0, row, DATE_LINE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


@functools.cache
def _font_characters() -> frozenset[int]:
    with TTFont(str(FONT), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_characters(agreement: GuardianshipAgreement) -> str:
    """The characters of the agreement that the PDF's font cannot draw (a rare name character),
    in order of first use; the page tells the user to print from the browser instead."""
    drawable = _font_characters()
    seen: dict[str, None] = {}
    for ch in f"{agreement.title}{agreement.text}{agreement.duties}":
        if not ch.isspace() and ord(ch) not in drawable:
            seen.setdefault(ch)
    return "".join(seen)


def agreement_pdf(agreement: GuardianshipAgreement) -> bytes:
    pdf = _Document(format="A4", unit="mm")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font(FAMILY, "", str(FONT))
    pdf.set_title(agreement.title)
    pdf.set_creator("守护 农村留守儿童关爱保护信息系统")
    pdf.add_page()
    _heading(pdf, agreement.title, size=18)
    _paragraphs(pdf, agreement.text)
    _signatures(pdf)
    pdf.add_page()
    _heading(pdf, "附：监护人责任清单", size=15)
    _paragraphs(pdf, agreement.duties)
    pdf.ln(LINE)
    pdf.set_font(FAMILY, size=12)
    _paragraphs(pdf, f"受委托监护人已阅读并知晓上述责任。签字：{SIGN_LINE}　{DATE_LINE}")
    output: Any = pdf.output()
    return bytes(output)
