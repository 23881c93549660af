"""What a label says its value is: one classification for a table's column headers and for the
`label：value` pairs of a line (DESIGN §6: "a number's label tells what it is").

Rules, not word lists per example: a label that names a policy (証券/契約/ポリシー + 番号/No/記号) is
a policy number's; any other 〜番号, No., ID, コード, 番 or a phone, fax, postcode or vehicle word is
another identifier's, whatever its value looks like. A label that says "previous", "other" or
"remarks" never names the row's underwriter; only an underwriter label (引受, 保険会社) does. A
label of the agency's own people (担当, 部署, 内線, 役職, 社員) makes its names staff, not customers.

Order matters where a label holds several words: 前契約保険会社 is a previous insurer, not the
underwriter; 証券コード is a stock code, not a policy; 契約者カナ is a kana column.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

import regex


class LabelKind(StrEnum):
    POLICY = "policy_number"
    KANA = "kana"
    NAME = "name"
    UNDERWRITER = "underwriter"
    OTHER_INSURER = "other_insurer"  # previous / transferred-from / other company
    STAFF = "staff"  # the agency's own people: 担当者, 部署, 内線, 役職
    OTHER_ID = "other_identifier"
    DATE = "date"
    AMOUNT = "amount"
    FREE = "free_text"  # remarks, notes, subject


_I = regex.IGNORECASE | regex.V1
# (kind, pattern), tried in order; the first that matches anywhere in the label wins.
_RULES: tuple[tuple[LabelKind, regex.Pattern[str]], ...] = (
    (LabelKind.OTHER_ID, regex.compile(r"証券\s*コード|銘柄|株式コード", _I)),
    (
        LabelKind.POLICY,
        regex.compile(
            r"(?:証券|証書|契約|ポリシー|保険|policy)\s*(?:番号|No\.?|NO|Ｎｏ|ＮＯ|№|記号|#|＃|number|ナンバー)"
            r"|^証券$|^(?:保険)?証券番号|^証番$",
            _I,
        ),
    ),
    (
        LabelKind.OTHER_INSURER,
        regex.compile(
            r"前契約|前保険|前年|前回|前社|旧契約|旧保険|旧社|他社|乗換|乗り換え|移行元|変更前|更改前|従前|元契約|"
            r"previous|prior|former|other\s*insurer",
            _I,
        ),
    ),
    (
        LabelKind.FREE,
        regex.compile(r"備考|摘要|メモ|コメント|特記|連絡事項|申し?送り|件名|内容|remarks?|notes?|comments?", _I),
    ),
    (
        LabelKind.UNDERWRITER,
        regex.compile(r"引受|保険会社|元受|(?<!被)保険者名?$|^会社$|^保険$|insurer|carrier|underwriter", _I),
    ),
    (
        LabelKind.STAFF,
        regex.compile(
            r"担当|部署|所属|内線|役職|社員|職員|従業員|営業所|支店|課名|部門|部名|代理店|募集人|差出人|送信者|staff|dept|extension|"
            r"出席|参加者|同席|同行|作成者|承認者|確認者|報告者|記入者|連絡者|attendee",
            _I,
        ),
    ),
    (LabelKind.KANA, regex.compile(r"フリガナ|ふりがな|ﾌﾘｶﾞﾅ|カナ|かな|ｶﾅ|よみ|読み|kana", _I)),
    (
        LabelKind.OTHER_ID,
        regex.compile(
            r"番号|No\b\.?|ＮＯ|Ｎｏ|№|ID\b|ＩＤ|Id$|コード|code|番$|#|＃|電話|TEL|Tel|FAX|Fax|携帯|〒|郵便|車台|"
            r"登録|ナンバー|URL|UID|口座|パスコード|パスワード|会議|ミーティング|問い?合わ?せ|mail|メール|phone|zip|"
            r"order|ticket|invoice|case|ref|booking|tracking|account|meeting|passcode",
            _I,
        ),
    ),
    (
        LabelKind.NAME,
        regex.compile(r"契約者|被保険者|氏名|名前|お名前|顧客|お客|名義|受取人|申込者|name", _I),
    ),
    (LabelKind.DATE, regex.compile(r"日付|年月日|日$|期日|期限|満期|始期|終期|期間|date|expir", _I)),
    (LabelKind.AMOUNT, regex.compile(r"金額|保険料|料$|額$|円|合計|小計|税|amount|price|premium", _I)),
)
# Every underwriter label holds one of these words (the UNDERWRITER rule above): text without any
# has no underwriter label, and a search in the standard library's engine (one pass in C) says so.
UNDERWRITER_HINT = re.compile(r"引受|保険会社|元受|保険者|会社|保険|insurer|carrier|underwriter", re.IGNORECASE)


def has_underwriter_hint(text: str) -> bool:
    """UNDERWRITER_HINT.search(text), answered by substring tests where they can: case-insensitive
    matching made the engine's search 0.9 ms over a 22 KB letter, and each English word holds an r."""
    if "保険" in text or "会社" in text or "引受" in text or "元受" in text:
        return True
    return ("r" in text or "R" in text) and UNDERWRITER_HINT.search(text) is not None


MAX_LABEL = 24  # a label longer than this is a sentence, not a label
# "No." or 番号 alone says which row, not what the number is: only a qualified one (注文番号,
# 取引No.) names another identifier.
_GENERIC = regex.compile(r"(?:番号|No\.?|NO\.?|Ｎｏ．?|ＮＯ．?|№|#|＃)", regex.IGNORECASE)


class Label(NamedTuple):
    kind: LabelKind
    word: str  # the words of ours that classified it ("証券番号"): safe to show, never customer data

    def __str__(self) -> str:
        return f"「{self.word}」 ({self.kind})"


@lru_cache(maxsize=8192)  # a list repeats its column headers in every row
def read_label(label: str | None) -> Label | None:
    """The kind of value a label introduces, or None when it says nothing we use."""
    if not label:
        return None
    label = label.strip().rstrip(":：")
    if not label or len(label) > MAX_LABEL or _GENERIC.fullmatch(label):
        return None
    for kind, pattern in _RULES:
        m = pattern.search(label)
        if m:
            return Label(kind, m.group() or kind.value)  # only our own words, never the text
    return None


def classify(label: str | None) -> LabelKind | None:
    found = read_label(label)
    return found.kind if found else None


# The token right before a value: the run of characters back to a cell or phrase boundary, then
# the separators between label and value (：, =, #, an opening bracket, spaces).
_LABEL = rf"(?P<label>[^\t\s　、。,，()（）「」『』【】\[\]<>＜＞|｜:：=＝#＃・/_]{{1,{MAX_LABEL}}})"
# Searched backwards (REVERSE): the match that ends at the value is found first, 16x faster than a
# forward search trying every start; tests/test_precision.py holds both to the same answers.
_BEFORE = regex.compile(_LABEL + r"[ 　]*[:：=＝#＃]?[ 　]*[【\[「(（]?[ 　]*$", regex.V1 | regex.REVERSE)
# The same with a separator required: kanji glued to kanji (「担当者より山田様」) is prose, not a
# label and its value; a number glued to its label (「証券番号8100000001」) is still labelled.
_SEPARATED = regex.compile(_LABEL + r"(?:[ 　]|[:：=＝#＃【\[「(（])[ 　:：【\[「(（]*$", regex.V1 | regex.REVERSE)


def label_before(line: str, start: int, separated: bool = False) -> str | None:
    """The label a value at `start` sits under: `header:value` in a table row, `証券番号：…`,
    `TEL 03-…`, `（証券番号 8123…）` in text; None when the value follows a boundary. With
    `separated`, only a label set off from the value by a separator counts."""
    # No label crosses a tab (a cell boundary): the text from the last one is what is searched,
    # and a list's rows repeat it ("契約者名:") so most answers come from the cache.
    return _label_in(_window(line, start), separated)


def _window(line: str, start: int) -> str:
    return line[max(0, start - MAX_LABEL - 8, line.rfind("\t", 0, start) + 1) : start]


def _label_in(text: str, separated: bool) -> str | None:
    m = (_SEPARATED if separated else _BEFORE).search(text)
    return m.group("label") if m else None


def label_window(line: str, start: int) -> str:
    """The text a label of a value at `start` is read from (no label crosses a tab): label_at's
    answer is a function of it, for callers that remember answers by it."""
    return _window(line, start)


def label_at(line: str, start: int, separated: bool = False) -> Label | None:
    """The classified label of a value at `start`."""
    return _read_in(_window(line, start), separated)


def kind_before(line: str, start: int, separated: bool = False) -> LabelKind | None:
    found = label_at(line, start, separated)
    return found.kind if found else None


@lru_cache(maxsize=16384)  # one lookup per value on the hot path: the window text decides
def _read_in(text: str, separated: bool) -> Label | None:
    return read_label(_label_in(text, separated))


# Column kinds whose names are never customers, and whose numbers are never policy numbers.
NOT_CUSTOMER_NAMES = frozenset({LabelKind.STAFF, LabelKind.KANA, LabelKind.UNDERWRITER, LabelKind.OTHER_INSURER})
NOT_POLICY_NUMBERS = frozenset({LabelKind.OTHER_ID, LabelKind.DATE, LabelKind.AMOUNT, LabelKind.STAFF})
