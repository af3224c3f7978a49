"""Rebuild ShouhuSerifSC-Regular.ttf, the font of the agreement PDF (run by hand, not at run time).

Source: Noto Serif CJK SC Regular (SIL Open Font License 1.1), for example from Debian's
fonts-noto-cjk package (NotoSerifCJK-Regular.ttc, face "Noto Serif CJK SC"). Kept: GB 2312
(6,763 hanzi and its 682 symbols), ASCII, full-width forms and the check boxes; layout tables
and hinting dropped; the cubic (CFF) outlines converted to TrueType quadratics, because fpdf2
subsets TrueType several times faster than CFF (0.4 s against 1.3 s for an agreement). Renamed,
as the OFL asks of a modified version; the copyright and licence entries are kept, and OFL.txt
sits beside the font.

    python guardianship/fonts/make_subset.py /path/to/NotoSerifCJK-Regular.ttc
"""

import sys
from pathlib import Path

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped]
from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
from fontTools.ttLib import TTCollection, TTFont, newTable  # type: ignore[import-untyped]

FAMILY = "Shouhu Serif SC"
POSTSCRIPT = "ShouhuSerifSC-Regular"
TARGET = Path(__file__).with_name(f"{POSTSCRIPT}.ttf")
EXTRA = "　、。·—～‖…‘’“”〔〕〈〉《》「」『』〖〗【】（）［］｛｝：；，．！？％＋－＝／＿＃＆＊＜＞｜☐☑✓"


def characters() -> set[str]:
    chars = {chr(code) for code in range(0x20, 0x7F)} | set(EXTRA)
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def load(source: str) -> TTFont:
    if source.lower().endswith((".ttc", ".otc")):
        for font in TTCollection(source).fonts:
            if font["name"].getDebugName(1) == "Noto Serif CJK SC":
                return font
        raise SystemExit("no Noto Serif CJK SC face in the collection")
    return TTFont(source)


def rename(font: TTFont) -> None:
    names = {1: FAMILY, 3: f"{POSTSCRIPT};subset", 4: f"{FAMILY} Regular", 6: POSTSCRIPT, 16: FAMILY}
    table = font["name"]
    table.names = [record for record in table.names if record.nameID not in {*names, 17, 18}]
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [POSTSCRIPT]
        cff.topDictIndex[0].FullName = f"{FAMILY} Regular"
        cff.topDictIndex[0].FamilyName = FAMILY


def to_truetype(font: TTFont) -> None:
    """Replace the CFF outlines with quadratic TrueType ones (error at most 1 font unit)."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    del font["CFF "]
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for name in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxComponentDepth",
    ):
        setattr(maxp, name, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"


def main(source: str) -> None:
    font = load(source)
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "vhea", "vmtx", "VORG"]
    options.hinting = False
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(char) for char in characters()])
    subsetter.subset(font)
    rename(font)
    to_truetype(font)
    font.save(TARGET)
    print(f"{TARGET.name}: {TARGET.stat().st_size / 1024 / 1024:.1f} MB")


if __name__ == "__main__":
    main(sys.argv[1])
