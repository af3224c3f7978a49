"""附件1 as an A4 PDF with embedded Chinese text, on the agreement's font (guardianship/pdf.py).

The font is a GB 2312 subset: a character outside it (a rare name character) prints as the
missing-glyph box, so the form page names such characters (missing_characters) and says to
print from the browser instead, as the agreement page does.
"""

import functools
from typing import Any

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from guardianship.pdf import FAMILY, FONT, wrap
from nationalforms.form1 import SIGNATURES, ChildForm, Field

ROW = 7.0  # mm
LABEL = 46.0  # mm, a label cell (12 characters at 10 pt)
PAGE_WIDTH = 180.0  # A4 less 15 mm margins
SIGN_LINE = "＿＿＿＿＿＿＿＿"


class _Document(FPDF):
    watermark = ""  # who printed it and when, on every page

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FAMILY, size=7)
        self.cell(0, 4, self.watermark, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 4, f"第 {self.page_no()} 页，共 {{nb}} 页", align=Align.C)


@functools.cache
def _drawable() -> frozenset[int]:
    with TTFont(str(FONT), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_characters(form: ChildForm) -> str:
    """Characters of the form the PDF's font cannot draw, in order of first use."""
    drawable = _drawable()
    seen: dict[str, None] = {}
    for ch in form.texts():
        if not ch.isspace() and ord(ch) not in drawable:
            seen.setdefault(ch)
    return "".join(seen)


def _lines(pdf: FPDF, text: str, width: float) -> list[str]:
    return wrap(pdf, text, width - 2) or [""]


def _text(pdf: FPDF, lines: list[str], x: float, y: float, width: float) -> None:
    for index, line in enumerate(lines):
        pdf.set_xy(x + 1, y + index * ROW)
        pdf.cell(width - 2, ROW, line)


def _row(pdf: FPDF, fields: list[Field]) -> None:
    """Fields side by side, each a shaded label cell and a value cell; long text wraps inside
    its cell and the whole row grows to the tallest."""
    width = PAGE_WIDTH / len(fields)
    cells = [(_lines(pdf, f.label, LABEL), _lines(pdf, f.value, width - LABEL)) for f in fields]
    height = ROW * max(max(len(label), len(value)) for label, value in cells)
    if pdf.will_page_break(height):
        pdf.add_page()
    y = pdf.get_y()
    pdf.set_fill_color(240, 240, 240)
    for index, (label, value) in enumerate(cells):
        x = pdf.l_margin + index * width
        pdf.rect(x, y, LABEL, height, style="DF")
        pdf.rect(x + LABEL, y, width - LABEL, height)
        _text(pdf, label, x, y, LABEL)
        _text(pdf, value, x + LABEL, y, width - LABEL)
    pdf.set_xy(pdf.l_margin, y + height)


def _rows(fields: list[Field]) -> list[list[Field]]:
    """Two fields a line, a wide field alone."""
    rows: list[list[Field]] = []
    pending: list[Field] = []
    for field in fields:
        if field.wide:
            if pending:
                rows.append(pending)
                pending = []
            rows.append([field])
            continue
        pending.append(field)
        if len(pending) == 2:
            rows.append(pending)
            pending = []
    if pending:
        rows.append(pending)
    return rows


def _group(pdf: FPDF, title: str, fields: list[Field]) -> None:
    if pdf.will_page_break(ROW * 3):
        pdf.add_page()
    pdf.set_font(FAMILY, size=11)
    pdf.set_fill_color(220, 230, 225)
    pdf.cell(PAGE_WIDTH, ROW, title, border=1, fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, size=10)
    for row in _rows(fields):
        _row(pdf, row)


def _signatures(pdf: FPDF) -> None:
    if pdf.will_page_break(ROW * 4):
        pdf.add_page()
    pdf.ln(ROW)
    pdf.set_font(FAMILY, size=11)
    width = PAGE_WIDTH / 2
    for index, label in enumerate(SIGNATURES):
        text = f"{label}：{SIGN_LINE}" if label != "填表日期" else f"{label}：＿＿＿＿年＿＿月＿＿日"
        last = index % 2 == 1
        pdf.cell(
            width,
            ROW * 1.5,
            text,
            new_x=XPos.LMARGIN if last else XPos.RIGHT,
            new_y=YPos.NEXT if last else YPos.TOP,
        )


def child_form_pdf(form: ChildForm, *, watermark: str) -> bytes:
    """The form as PDF bytes. `watermark` (who printed it and when) is printed on every page."""
    pdf = _Document(format="A4", unit="mm")
    pdf.watermark = watermark
    pdf.set_margins(15, 12, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font(FAMILY, "", str(FONT))
    pdf.set_title(form.title)
    pdf.set_creator("守护 农村留守儿童关爱保护信息系统")
    pdf.add_page()
    pdf.set_font(FAMILY, size=17)
    pdf.cell(0, 10, form.title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, size=10)
    pdf.cell(PAGE_WIDTH / 2, ROW, f"{form.place}")
    number = f"档案编号：{form.file_no}"
    pdf.cell(PAGE_WIDTH / 2, ROW, number, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for group in form.groups:
        _group(pdf, group.title, group.fields)
    _signatures(pdf)
    output: Any = pdf.output()
    return bytes(output)
