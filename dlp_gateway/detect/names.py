"""Customer names: after a label (契約者名：…) or before an honorific (…様, …殿).

Labelled names stand on their own as customer data. Honorific names are weaker evidence — the
greeting names the recipient — so correlate uses them only beside a policy number on one line.
"""

from __future__ import annotations

import regex

from dlp_gateway.detect.normalize import display_name
from dlp_gateway.model import Finding

DETECTOR = "name"
REGEX_TIMEOUT = 0.5
_HAN = r"[\p{Han}々〆ヶ]"
_KANA = r"[\p{Katakana}ー]"
_NAME = (
    rf"(?:{_HAN}{{1,5}}(?:[ 　]{_HAN}{{1,5}})?"
    rf"|{_KANA}{{2,8}}(?:[ 　・]{_KANA}{{1,8}})?"
    r"|[A-Z][A-Za-z]+[ ][A-Z][A-Za-z]+)"
)
_LABELS = r"契約者氏名|契約者名|契約者|被保険者氏名|被保険者名|被保険者|お客様名|お客さま名|顧客名|氏名"
# A separator is required after the label: "契約者名" must not read as label "契約者" + name "名".
LABELLED = regex.compile(rf"(?P<label>{_LABELS})(?:\s*[:：]\s*|\s+)(?:様\s*)?(?P<name>{_NAME})", regex.V1)
HONORIFIC = regex.compile(
    rf"(?<!{_HAN}|{_KANA}|[おご])(?P<name>{_HAN}{{1,4}}(?:[ 　]{_HAN}{{1,4}})?)\s*(?P<label>様|殿)", regex.V1
)
_TRAILING = ("様", "殿", "さん", "氏")
# Words a label may be followed by that are not names ("氏名欄", "契約者本人"), and the column
# headers of a list ("契約者名	満期日	引受保険会社").
_NOT_NAMES = frozenset({"本人", "欄", "各位", "一覧", "情報", "変更", "様"})
_NOT_NAME_WORDS = regex.compile(
    r"満期|証券|番号|保険|契約|会社|住所|電話|日付|引受|代理店|担当|種目|氏名|生年月日|一覧"
)


def _clean(name: str) -> str:
    for suffix in _TRAILING:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            name = name[: -len(suffix)]
    return display_name(name)


def find(line: str, segment: int, line_no: int) -> list[Finding]:
    out: list[Finding] = []
    taken: list[tuple[int, int]] = []
    labelled = list(LABELLED.finditer(line, timeout=REGEX_TIMEOUT))  # a timeout fails the scan closed
    honorific = list(HONORIFIC.finditer(line, timeout=REGEX_TIMEOUT))
    for m in labelled:
        name = _clean(m.group("name"))
        if name.replace(" ", "") in _NOT_NAMES or _NOT_NAME_WORDS.search(name):
            continue
        s, e = m.span("name")
        taken.append(m.span())
        out.append(Finding(DETECTOR, name, segment, line_no, s, e, confidence=0.8, label=m.group("label")))
    for m in honorific:
        s, e = m.span("name")
        if any(s < te and ts < e for ts, te in taken) or _NOT_NAME_WORDS.search(m.group("name")):
            continue
        out.append(
            Finding(
                DETECTOR, display_name(m.group("name")), segment, line_no, s, e, confidence=0.5, label=m.group("label")
            )
        )
    return out
