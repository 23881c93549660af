"""Policy numbers: each insurer's YAML patterns, matched on normalised text.

A number may be written `８１２３−４５６７８９`, `8123-456789` or `8123 456 789`. We match on two
views of the line: dashes between alphanumerics removed, then spaces too; a match in the first
view wins, since joining space-separated digits can glue a date or code onto a number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import regex

from dlp_gateway.config.schema import Insurer
from dlp_gateway.detect.checkdigits import CHECK_DIGITS
from dlp_gateway.detect.chunk import Chunk
from dlp_gateway.detect.labels import NOT_POLICY_NUMBERS, Label, LabelKind, label_at
from dlp_gateway.detect.normalize import DASH_CLASS, canonical_number
from dlp_gateway.model import Detector, Finding

DETECTOR = Detector.POLICY_NUMBER
REGEX_TIMEOUT = 0.5  # seconds per search: mail text is untrusted
CONTEXT = regex.compile(
    r"証券\s*(?:番号|記号|NO|No|ＮＯ|Ｎｏ)|契約\s*番号|ポリシー\s*番号|policy\s*(?:no|number)", regex.IGNORECASE
)
# Look-alikes (DESIGN §6): numbers right after these words are phones, postal codes, stock codes,
# invoices, orders or amounts; numbers right before 円/株/件 are amounts or counts.
NOT_A_POLICY_BEFORE = regex.compile(
    r"(?:〒|TEL|FAX|電話|携帯|フリーダイヤル|証券コード|銘柄コード|コード|請求書?番号|注文番号|発注番号|伝票番号|受付番号|"
    r"お?問い?合わせ番号|会員番号|口座番号|振込|金額|¥|￥|\$|No\.?\s*\d*\s*-)[\s:：.#＃]*$",
    regex.IGNORECASE,
)
# The unit stays in the number's own cell (a tab ends it: "証券番号:8123456789<TAB>名前:…" is a
# policy number and a name column, not "8123456789 名") and does not begin a word: 名義, 名前,
# 株式会社, 件名 and 人数 after a number are the next words of a sentence or row, not counters.
NOT_A_POLICY_AFTER = regex.compile(
    r"^[^\S\t\n]*(?:円|万円|千円|株(?![式主])|件(?!名)|名(?![前義称簿字刺])|人(?![数名])|歳|%|％)"
)
AFTER_WINDOW = 8  # characters after a number that NOT_A_POLICY_AFTER looks at
PHONE = regex.compile(rf"^[(（]?0\d{{1,4}}[)）]?[{DASH_CLASS} ]?\d{{1,4}}[{DASH_CLASS} ]\d{{3,4}}$")


def looks_like_date(value: str) -> bool:
    if len(value) != 8 or not value.isdigit() or value[:2] not in ("19", "20"):
        return False
    return 1 <= int(value[4:6]) <= 12 and 1 <= int(value[6:]) <= 31


# Structure that makes a number part of something else: a web or mail address, and the characters
# that glue a number into a longer token (an ID, a path, a query string, an undecoded escape).
_ADDRESS = regex.compile(r"(?:https?|ftps?)://\S+|www\.\S+|mailto:\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", regex.IGNORECASE)
_GLUE_BEFORE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789=@%&?+\\")
_GLUE_AFTER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789=@%&?+\\")


def _fold(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch) if ch and not ch.isascii() else ch


# "No" glued to its number ("No8100000001", "証券NO8100000001") labels it; it is not glue.
_NO_BEFORE = regex.compile(r"(?:^|[^A-Za-z])(?:No|NO|no|Ｎｏ|ＮＯ)\.?$")


def part_of_token(line: str, start: int, end: int, labelled: bool = False) -> bool:
    """Whether the number is glued into a longer token or sits inside an address. `labelled`: a
    policy label stands right before it, and what touches its start is that label."""
    before, after = line[start - 1 : start], line[end : end + 1]
    if labelled or (before in "oO．.ｏＯ" and _NO_BEFORE.search(line, max(0, start - 4), start)):
        before = ""
    if before in _GLUE_BEFORE or after in _GLUE_AFTER:
        return True
    if not (before + after).isascii() and ((before and _fold(before) in _GLUE_BEFORE) or _fold(after) in _GLUE_AFTER):
        return True  # full-width letters and signs glue too
    if "://" in line or "@" in line or "www." in line or "WWW." in line:  # (not every "/": dates hold one)
        return any(m.start() < end and start < m.end() for m in _ADDRESS.finditer(line, timeout=REGEX_TIMEOUT))
    return False


def is_lookalike(line: str, start: int, end: int, value: str, context: bool, label: Label | None = None) -> bool:
    """A phone, postal code, date, amount, stock code or invoice number that fits a pattern; a
    number under another identifier's label; a number that is part of a longer token."""
    if label is not None and label.kind in NOT_POLICY_NUMBERS:
        return True
    if part_of_token(line, start, end, labelled=label is not None and label.kind is LabelKind.POLICY):
        return True
    before, after = line[max(0, start - 12) : start], line[end : end + AFTER_WINDOW]
    if NOT_A_POLICY_BEFORE.search(before) or NOT_A_POLICY_AFTER.match(after):
        return True
    if context:
        return False  # 証券番号 beside it: a policy number written like a phone number is still one
    return bool(PHONE.match(line[start:end].strip())) or looks_like_date(value)


# Pattern text that could match or look at a newline, or anchor to the text's ends: such an
# insurer's pattern is run line by line rather than over a chunk (detect/chunk.py).
_UNSAFE_IN_CHUNK = regex.compile(r"\\[sSDWBAZGnNhHvVpPXxuU0]|\[\^|\[:|[.^$]|\(\?[a-zA-Z]*[sm]")


def blob_safe(pattern: regex.Pattern[str]) -> bool:
    return not _UNSAFE_IN_CHUNK.search(pattern.pattern)


class PolicyNumberFinder:
    def __init__(self, insurers: Iterable[Insurer]) -> None:
        self.patterns = [(ins.id, pat) for ins in insurers for pat in ins.policy_numbers]
        self.checks = {ins.id: CHECK_DIGITS[ins.check_digit] for ins in insurers if ins.check_digit}
        self.in_chunk = all(blob_safe(pat) for _, pat in self.patterns)

    def find(self, chunk: Chunk, segment: int) -> list[Finding]:  # noqa: C901 - the validate and invalidate steps of one match, in order
        if not self.patterns or not chunk.has_digit:
            return []
        if not self.in_chunk and len(chunk.lines) > 1:
            return [
                f for k, line in enumerate(chunk.lines) for f in self.find(Chunk((line,), chunk.line_no(k)), segment)
            ]
        # Per line: (start, end) → (value, insurers whose pattern matched there).
        hits: dict[int, dict[tuple[int, int], tuple[str, set[str]]]] = {}
        for view, vindex in chunk.number_views():
            for insurer, pattern in self.patterns:
                # A timeout propagates: the scan fails and on_error decides (fail closed).
                for m in pattern.finditer(view, timeout=REGEX_TIMEOUT):
                    if m.end() == m.start():
                        continue
                    k, start = chunk.locate(vindex[m.start()])
                    span = (start, start + vindex[m.end() - 1] + 1 - vindex[m.start()])
                    line_hits = hits.setdefault(k, {})
                    if line_hits and any(s < span[1] and span[0] < e for (s, e) in line_hits if (s, e) != span):
                        continue
                    value = m.group(0).replace("-", "").replace(" ", "")
                    line_hits.setdefault(span, (value, set()))[1].add(insurer)
        out = []
        for k in sorted(hits):
            line = chunk.lines[k]
            # In a table row the context is the number's own column; in text, the line.
            line_context = "\t" not in line and bool(CONTEXT.search(line))
            for (start, end), (value, matched) in sorted(hits[k].items()):
                label = label_at(line, start)
                context = line_context or (label is not None and label.kind is LabelKind.POLICY)
                checked = bool(self.checks) and any(i in self.checks for i in matched)
                insurers = (
                    tuple(sorted(i for i in matched if i not in self.checks or self.checks[i](value)))
                    if checked or len(matched) > 1
                    else tuple(matched)
                )
                if not insurers or is_lookalike(line, start, end, value, context, label):
                    continue
                confidence = 0.85 if context else 0.6
                if checked and any(i in self.checks for i in insurers):
                    confidence += 0.1  # a passing check digit is strong evidence
                out.append(
                    Finding(
                        DETECTOR,
                        value,
                        segment,
                        chunk.line_no(k),
                        start,
                        end,
                        confidence,
                        insurers=insurers,
                        label=str(label) if label else None,
                    )
                )
        return out

    def may_continue(self, chunk: Chunk) -> set[int]:
        """Lines of the chunk (0-based) that may end in an alphanumeric tail: the only ones find_across
        can join to the next line. One search over the chunk instead of one per line."""
        if not self.patterns:
            return set()  # (no digit gate: the next line may be the first of the next chunk)
        return {chunk.locate(m.start())[0] for m in _TAILS.finditer(chunk.text)}

    def find_across(self, line: str, following: str, segment: int, line_no: int) -> list[Finding]:
        """A number broken over two lines ("証券番号：8123-\n456789"), reported on the first. Only
        where the break falls inside one token: the tail starts a token (not the end of a date, a
        time or a path) and the next line starts with the rest of it, not with a word or label."""
        tail = _TAIL.search(line)
        head = _HEAD.match(following)
        if not tail or not head or not self.patterns or not _joinable(line, tail.start(), following, head.end()):
            return []
        left, right = canonical_number(tail.group()), canonical_number(head.group())
        joined = left + right
        context = bool(CONTEXT.search(line))
        for insurer, pattern in self.patterns:
            for m in pattern.finditer(joined, timeout=REGEX_TIMEOUT):
                if not m.start() < len(left) < m.end():
                    continue  # a match on one line alone is found by `find`
                value = m.group()
                if insurer in self.checks and not self.checks[insurer](value):
                    continue
                start = tail.start() + len(tail.group()) - len(tail.group().lstrip())
                label = label_at(line, start)
                if label is not None and label.kind is LabelKind.POLICY:
                    context = True
                if is_lookalike(line, start, len(line.rstrip()), value, context, label):
                    continue
                return [
                    Finding(
                        DETECTOR,
                        value,
                        segment,
                        line_no,
                        start,
                        len(line),
                        0.85 if context else 0.6,
                        insurers=(insurer,),
                    )
                ]
        return []


_DATE_LIKE = regex.compile(
    rf"^\d{{4}}[{DASH_CLASS}]\d{{1,2}}[{DASH_CLASS}]\d{{1,2}}$|^(?:19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])$"
)
# A word right after the head: the next line goes on with text of its own, not with the number.
_HEAD_END = regex.compile(r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ]")


def _joinable(line: str, tail_start: int, following: str, head_end: int) -> bool:
    """A break inside one token: the tail begins at a token boundary (start of line, a space, a
    label separator), is not a whole date, and the head ends at a boundary of its own."""
    start = tail_start + len(line[tail_start:]) - len(line[tail_start:].lstrip())
    before = _fold(line[start - 1 : start])
    if before in _GLUE_BEFORE or before in ("/", ".", ",", ";"):
        return False  # the end of a path, a date, a decimal or a list
    if before == ":" and line[start - 2 : start - 1].isdigit():
        return False  # a time (14:00)
    if _DATE_LIKE.match(unicodedata.normalize("NFKC", line[start:].strip())):
        return False
    after = following[head_end : head_end + 1]
    return not (after and (_HEAD_END.match(after) or _fold(after) in _GLUE_AFTER))


# The alphanumeric end of a line and the start of the next (full-width and dashes included).
_ALNUM = "0-9A-Za-z０-９Ａ-Ｚａ-ｚ"
_TAIL = regex.compile(rf"[{_ALNUM}][{_ALNUM}{DASH_CLASS}]*[{DASH_CLASS}]?\s*$")
_HEAD = regex.compile(rf"\s*[0-9０-９][{_ALNUM}{DASH_CLASS}]*")
# Lines whose last visible character could end a _TAIL: a superset, searched in linear time (the
# whole _TAIL pattern retries every start inside a long alphanumeric run). The standard library's
# engine runs this one 7x faster than `regex` on Japanese text; its \s also takes \x1c-\x1f,
# which only widens the superset.
_TAILS = re.compile(rf"[{_ALNUM}{DASH_CLASS}][^\S\n]*$", re.MULTILINE)
