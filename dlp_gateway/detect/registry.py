"""Registry matches anywhere in the text (exact data match): policy numbers of any format and
customer names with or without labels, found by hashing candidate spans with the index's key.

Candidates are bounded, so the cost stays linear in the text: whole alphanumeric runs (in the
dash-joined and space-joined views) whose length fits the registry's numbers, and, inside runs of
name characters, every substring whose length fits the registry's names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from zlib import crc32

import regex

from dlp_gateway.detect.chunk import Chunk
from dlp_gateway.detect.normalize import NAME_RUN, display_name, kana_to_katakana
from dlp_gateway.model import Finding
from dlp_gateway.registry.index import BLOOM_BITS, PREFIX, RegistryIndex

DETECTOR_NUMBER = "policy_number"
DETECTOR_NAME = "name"
_RUN = regex.compile(r"[0-9A-Z]+")
_NAME_RUNS = re.compile(NAME_RUN.pattern[:-1] + "{2,}")
MAX_NAME_KEY = 12
_PREFIX_MEMO = 200_000  # pairs remembered (a few MB at most)


class RegistryFinder:
    def __init__(self, registry: RegistryIndex) -> None:
        self.registry = registry
        (self.pmin, self.pmax), (nmin, nmax) = registry.lengths()
        self.nmin, self.nmax = max(nmin, 2), min(nmax, MAX_NAME_KEY)
        self._prefix_seen: dict[str, bool] = {}
        self._no_name_runs: set[int] = set()

    def find(self, chunk: Chunk, segment: int) -> list[Finding]:
        """The chunk's numbers in line order, then its names in line order (Detectors sorts them
        into lines; within a line, numbers come before names as when a line is read alone)."""
        return self._numbers(chunk, segment) + self._names(chunk, segment)

    def _numbers(self, chunk: Chunk, segment: int) -> list[Finding]:
        if not self.pmax or not chunk.has_digit:
            return []
        out: dict[int, dict[tuple[int, int], Finding]] = {}
        for view, index in chunk.number_views():
            for m in _RUN.finditer(view):
                if not self.pmin <= len(m.group()) <= self.pmax:
                    continue
                insurer = self.registry.policy_insurer(self.registry.digest("p", m.group()))
                if insurer is None:
                    continue
                k, start = chunk.locate(index[m.start()])
                span = (start, start + index[m.end() - 1] + 1 - index[m.start()])
                line_out = out.setdefault(k, {})
                if not any(s < span[1] and span[0] < e for s, e in line_out):
                    line_out[span] = Finding(
                        DETECTOR_NUMBER,
                        m.group(),
                        segment,
                        chunk.line_no(k),
                        *span,
                        confidence=0.97,
                        registry=(insurer,),
                    )
        return [f for k in sorted(out) for f in out[k].values()]

    def _names(self, chunk: Chunk, segment: int) -> list[Finding]:
        if not self.nmax or not NAME_RUN.search(chunk.text):
            return []
        view, index = chunk.names
        out: list[Finding] = []
        for run in _NAME_RUNS.finditer(view):  # a name has two characters at least
            key = hash(run.group())  # a salted 64-bit hash: no mail text is kept between messages
            if key in self._no_name_runs:
                continue
            found = len(out)
            # Hiragana become katakana here, per run not yet seen, rather than over the whole text
            # (one character for one: the index is unchanged).
            text = kana_to_katakana(run.group())
            self._names_in_run(text, index, run.start(), chunk, segment, out)
            if len(out) == found:
                # Runs without a name repeat (column labels, insurer and product names in every row
                # of a list, set phrases in letters); runs holding a name are not kept.
                if len(self._no_name_runs) >= _PREFIX_MEMO:
                    self._no_name_runs.clear()
                self._no_name_runs.add(key)
        return out

    def _starts(self, view: str, start: int, end: int) -> list[int] | range:
        """Positions in the run where a registered name may start: those whose first two characters
        pass the prefix Bloom test. The answer per pair is remembered (a mail's text repeats the same
        few thousand pairs), so most positions cost one dictionary lookup, not a hash."""
        if not self.registry.prefix_bloom:
            return range(start, end)
        seen = self._prefix_seen
        pairs = [view[i : i + 2] for i in range(start, end)]
        new = set(pairs).difference(seen)
        if new:
            if len(seen) + len(new) > _PREFIX_MEMO:
                seen.clear()
                new = set(pairs)
            bloom, seed, bits = self.registry.name_bloom, self.registry.bloom_seed, BLOOM_BITS - 1
            for pair in new:
                bit = crc32((PREFIX + pair).encode(), seed) & bits
                seen[pair] = bool(bloom[bit >> 3] >> (bit & 7) & 1)
        return [i for i, pair in zip(range(start, end), pairs, strict=True) if seen[pair]]

    def _names_in_run(
        self, run: str, index: Sequence[int], base: int, chunk: Chunk, segment: int, out: list[Finding]
    ) -> None:
        """Registered names in one run of name characters, which starts at `base` in the view."""
        # The Bloom test is inlined: it runs for every candidate span and dominates the cost.
        bloom, seed, bits = self.registry.name_bloom, self.registry.bloom_seed, BLOOM_BITS - 1
        view, start, end = run, 0, len(run)
        taken_to = start  # after a hit, the next name starts after it
        for i in self._starts(view, start, end):
            if i < taken_to:
                continue
            hit = None
            for length in range(min(self.nmax, end - i), self.nmin - 1, -1):  # longest first
                key = view[i : i + length]
                bit = crc32(key.encode(), seed) & bits
                if not bloom[bit >> 3] >> (bit & 7) & 1:
                    continue
                mask = self.registry.name_mask(self.registry.digest("n", key))
                if mask:
                    hit = (length, mask)
                    break
            if hit is None:
                continue
            length, mask = hit
            s, e = index[base + i], index[base + i + length - 1] + 1
            k, local = chunk.locate(s)
            out.append(
                Finding(
                    DETECTOR_NAME,
                    display_name(chunk.text[s:e]),
                    segment,
                    chunk.line_no(k),
                    local,
                    local + e - s,
                    confidence=0.9,
                    label="registry",
                    registry=tuple(sorted(self.registry.holders(mask))),
                )
            )
            taken_to = i + length
