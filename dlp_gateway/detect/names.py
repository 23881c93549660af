"""Customer names: after a label (契約者名：…), before an honorific (…様, …さん, …殿), and — near
customer words — full names that Japanese morphology (detect/morph.py) recognises.

Labelled names stand on their own as customer data. Honorific names are weaker evidence (the
greeting names the recipient), so on their own they count only when morphology confirms a full
name; otherwise correlate uses them beside a policy number. A full name without an honorific in
prose is usually a colleague ("担当の山田太郎"): it too counts only beside a number.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import regex

from dlp_gateway.detect import morph
from dlp_gateway.detect.chunk import Chunk
from dlp_gateway.detect.normalize import display_name
from dlp_gateway.model import Detector, Finding

DETECTOR = Detector.NAME
REGEX_TIMEOUT = 0.5
_HAN = r"[\p{Han}々〆ヶ]"
_KANA = r"[\p{Katakana}ー]"
_HIRA = r"\p{Hiragana}"
_SP = r"[^\S\n]"  # white space within a line: no pattern reaches across lines (detect/chunk.py)
# Family names are written in kanji; given names in kanji, katakana or hiragana (佐々木 クミ子,
# 藤田サユリ, 松田あすか). Hiragana right after the family name must end the name (a space, an
# honorific, punctuation or the end): "山田の件" is not a name.
_GIVEN = (
    rf"(?:[ 　](?:{_HAN}|{_KANA}|{_HIRA}){{1,6}}|{_KANA}{{1,6}}(?:{_HAN}{{1,2}})?|{_HIRA}{{1,3}}子"
    rf"|{_HIRA}{{2,5}}(?=[\s　、。,.)）]|様|さま|さん|殿|$))"
)
_NAME = (
    rf"(?:{_HAN}{{1,5}}{_GIVEN}?"
    rf"|{_KANA}{{2,8}}(?:[ 　・]{_KANA}{{1,8}})?"
    r"|[A-Z][A-Za-z]+[ ][A-Z][A-Za-z]+)"
)
FIELD_LABELS = (
    "契約者氏名",
    "契約者名",
    "契約者",
    "被保険者氏名",
    "被保険者名",
    "被保険者",
    "お客様名",
    "お客さま名",
    "顧客名",
    "氏名",
    "お名前",
    "名前",
)
HONORIFICS = ("様", "さま", "殿", "さん", "氏")
# A separator is required after the label: "契約者名" must not read as label "契約者" + name "名".
LABELLED = regex.compile(
    rf"(?P<label>{'|'.join(FIELD_LABELS)})(?:{_SP}*[:：]{_SP}*|{_SP}+)(?:様{_SP}*)?(?P<name>{_NAME})", regex.V1
)
HONORIFIC = regex.compile(
    rf"(?<!{_HAN}|{_KANA}|[おご])"
    rf"(?P<name>{_HAN}{{1,6}}{_GIVEN}?|{_KANA}{{2,8}}(?:[ 　・]{_KANA}{{1,8}})?)"
    rf"{_SP}*(?P<label>様|さま|殿|さん|氏)",
    regex.V1,
)
# The longest name HONORIFIC takes: カタカナ{8}, a separator, カタカナ{8} (漢字{6} with a given name is 14).
HONORIFIC_NAME_MAX = 17
MASKED = regex.compile(r"[ 　]?\*{2,}")
# Lines worth the morphological analyser: an honorific or a word that introduces a customer.
PERSON_CONTEXT = regex.compile(r"様|さま|さん|殿|氏|契約者|被保険者|お客|顧客|名義|ご本人")
# Words a label may be followed by that are not names ("氏名欄", "契約者本人"), and the column
# headers of a list ("契約者名	満期日	引受保険会社").
_NOT_NAMES = frozenset({"本人", "欄", "各位", "一覧", "情報", "変更", "様"})
# The column after a name label in a list's header row ("氏名<TAB>フリガナ<TAB>性別"), matched as a
# whole word only, so a name that merely contains one (タカナシ, 区分山) still counts.
_COLUMN_WORD = regex.compile(
    "フリガナ|ふりがな|カナ|かな|性別|年齢|続柄|備考|区分|件名|種別|摘要|内容|状況|状態|所属|部署"
    "|役職|職業|金額|期間|等級|用途|車名|連絡先|メール|続き|敬称|属性|分類|地域|店舗|支店|営業所"
)
_NOT_NAME_WORDS = regex.compile(
    r"満期|証券|番号|保険|契約|会社|住所|電話|日付|引受|代理店|担当|種目|氏名|生年月日|一覧|御中|各位|皆|客"
)


# Every pattern below needs one of these: a label holds 者 or 名, an honorific is one of them, and
# each customer word holds one. Most lines of a letter hold none, and skip the three searches.
_HINT = re.compile("様|さま|さん|殿|氏|者|客|名|本人")
_HONORIFIC_HINT = re.compile("|".join(HONORIFICS))
_TRAILING_HONORIFIC = re.compile(rf"[ \u3000]*(?:{'|'.join(HONORIFICS)})")


def _blank(line: str, spans: list[tuple[int, int]]) -> str:
    for s, e in spans:
        line = line[:s] + " " * (e - s) + line[e:]
    return line


def _clean(name: str) -> str:
    for suffix in HONORIFICS:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            name = name[: -len(suffix)]
    return display_name(name)


def _overlaps(s: int, e: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < te and ts < e for ts, te in spans)


def find(chunk: Chunk, segment: int) -> list[Finding]:
    text = chunk.text
    if not _HINT.search(text):
        return []
    labelled: dict[int, list[regex.Match[str]]] = {}
    for m in LABELLED.finditer(text, timeout=REGEX_TIMEOUT):  # a timeout fails the scan closed
        labelled.setdefault(chunk.locate(m.start())[0], []).append(m)
    hints: dict[int, list[tuple[int, int]]] = {}
    for hint in _HONORIFIC_HINT.finditer(text):
        hints.setdefault(chunk.locate(hint.start())[0], []).append(hint.span())
    # (every line with an honorific is a context line: PERSON_CONTEXT holds every honorific)
    context = {chunk.locate(m.start())[0] for m in PERSON_CONTEXT.finditer(text)}
    out: list[Finding] = []
    for k in sorted(labelled.keys() | context):
        out += _line_names(chunk, k, segment, labelled.get(k, []), hints.get(k, []))
    return out


def honorific_matches(
    text: str, start: int, hints: list[tuple[int, int]], within: Sequence[tuple[int, int]] = ()
) -> list[regex.Match[str]]:
    """HONORIFIC's matches in the line of `text` that begins at `start`, as one search of the line
    would find them, given where its honorifics are (`hints`, in order). HONORIFIC tries a name at
    every kanji, about 0.4 µs a character; every match ends with an honorific after at most
    HONORIFIC_NAME_MAX name characters and a run of spaces, so only those windows are searched.

    A window is not searched when each of its honorifics lies inside one of the spans `within`
    after its first character (the labelled names the line already took, with the honorific after
    each): a match ends at one of them, and its name, which ends at most white space before it,
    overlaps that span, so the caller drops it. (An honorific that starts a span, 氏 of 氏名, is
    searched: the name before it lies outside.) A list's rows 「契約者名：山田 太郎 様」 spent a
    tenth of their scan on such windows."""
    out: list[regex.Match[str]] = []
    window: tuple[int, int] | None = None
    needed = False  # whether the window holds an honorific outside `within`
    for q, qe in hints:
        a = q
        while a > start and text[a - 1].isspace():  # a superset of [^\S\n]: the window only widens
            a -= 1
        a = max(start, a - HONORIFIC_NAME_MAX)
        outside = not any(ts < q and qe <= te for ts, te in within)
        if window is not None and a <= window[1]:
            window = (window[0], qe)  # overlapping windows are searched as one
            needed = needed or outside
            continue
        if window is not None and needed:
            out += HONORIFIC.finditer(text, *window, timeout=REGEX_TIMEOUT)
        window, needed = (a, qe), outside
    if window is not None and needed:
        out += HONORIFIC.finditer(text, *window, timeout=REGEX_TIMEOUT)
    return out


def _line_names(
    chunk: Chunk, k: int, segment: int, labelled: list[regex.Match[str]], hints: list[tuple[int, int]]
) -> list[Finding]:
    """One line's names from the labelled matches found in its chunk and its honorifics (offsets
    in the chunk's text)."""
    line, base, line_no = chunk.lines[k], chunk.starts[k], chunk.line_no(k)
    out: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for m in labelled:
        name = _clean(m.group("name"))
        key = name.replace(" ", "")
        if key in _NOT_NAMES or _COLUMN_WORD.fullmatch(key) or _NOT_NAME_WORDS.search(name):
            continue
        if MASKED.match(line, m.end() - base):
            continue  # also a name already masked by redaction: "契約者名：山田 **"
        s, e = m.start("name") - base, m.end("name") - base
        # The honorific after a labelled name ("契約者名：山田 太郎 様") is part of its mention, not a
        # sign of another person: it does not wake the morphological analyser for the rest.
        after = _TRAILING_HONORIFIC.match(line, e)
        taken.append((m.start() - base, after.end() if after else m.end() - base))
        out.append(Finding(DETECTOR, name, segment, line_no, s, e, confidence=0.8, label=m.group("label")))
    # Morphology only where a customer word or honorific remains outside the labelled names: a list
    # row "契約者名：山田 太郎　満期日：…" is already read, and analysing every row cost more than
    # everything else together on large spreadsheets.
    rest = _blank(line, taken)
    persons = morph.person_spans(line) if PERSON_CONTEXT.search(rest) else []
    labelled_spans = [(ts + base, te + base) for ts, te in taken]
    for m in honorific_matches(chunk.text, base, hints, labelled_spans) if hints else ():
        s, e = m.start("name") - base, m.end("name") - base
        if _overlaps(s, e, taken) or _NOT_NAME_WORDS.search(m.group("name")):
            continue
        # Morphology narrows the span ("弊社鈴木" → "鈴木") and tells a full name. Its last token may
        # stop one character short (クミ|子): the honorific marks the end.
        person = next((p for p in persons if s <= p.start < e and p.end >= e - 1), None)
        if person is None and e - s == 1:
            continue  # one character before 様 ("…み子様" split wrongly) unless morphology says 姓 (林様)
        if person is not None:
            person = dataclasses.replace(person, end=e)
            s = person.start
        full = person is not None and person.full
        value = person.display(line) if person is not None else display_name(line[s:e])
        taken.append((s, e))
        out.append(
            Finding(
                DETECTOR,
                display_name(value),
                segment,
                line_no,
                s,
                e,
                confidence=0.7 if full else 0.5,
                label=m.group("label"),
                person=full,
            )
        )
    for p in persons:
        if p.full and not _overlaps(p.start, p.end, taken) and not _NOT_NAME_WORDS.search(line[p.start : p.end]):
            out.append(
                Finding(
                    DETECTOR,
                    display_name(p.display(line)),
                    segment,
                    line_no,
                    p.start,
                    p.end,
                    confidence=0.6,
                    person=True,
                )
            )
    return out
