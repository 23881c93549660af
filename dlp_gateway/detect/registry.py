"""Registry matches anywhere in the text (exact data match): policy numbers of any format and
customer names with or without labels, found by hashing candidate spans with the index's key.

Candidates are bounded, so the cost stays linear in the text: whole alphanumeric runs (in the
dash-joined and space-joined views) whose length fits the registry's numbers, and, inside runs of
name characters, every substring whose length fits the registry's names.
"""

from __future__ import annotations

import re
from zlib import crc32

import regex

from dlp_gateway.detect.chunk import Chunk
from dlp_gateway.detect.normalize import NAME_RUN, display_name, kana_to_katakana
from dlp_gateway.model import Detector, Finding
from dlp_gateway.registry.index import BLOOM_BITS, PREFIX, RegistryIndex

DETECTOR_NUMBER = Detector.POLICY_NUMBER
DETECTOR_NAME = Detector.NAME
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
        # Whole alphanumeric runs of a registered number's length: the engine skips the rest (a
        # wide list row holds a dozen runs of other lengths: dates, phones, postcodes, amounts).
        self._runs = regex.compile(rf"(?<![0-9A-Z])[0-9A-Z]{{{max(self.pmin, 1)},{max(self.pmax, 1)}}}(?![0-9A-Z])")

    def find(self, chunk: Chunk, segment: int) -> list[Finding]:
        """The chunk's numbers in line order, then its names in line order (Detectors sorts them
        into lines; within a line, numbers come before names as when a line is read alone)."""
        return self._numbers(chunk, segment) + self._names(chunk, segment)

    def number_insurer(self, run: str) -> str | None:
        """The insurer the registry holds a whole alphanumeric run under, as `_numbers` looks it up."""
        if not self.pmax or not max(self.pmin, 1) <= len(run) <= self.pmax:
            return None
        return self.registry.policy_insurer(self.registry.digest("p", run))

    def _numbers(self, chunk: Chunk, segment: int) -> list[Finding]:
        if not self.pmax or not chunk.has_digit:
            return []
        out: dict[int, dict[tuple[int, int], Finding]] = {}
        looked_up: dict[str, str | None] = {}  # the two views repeat most runs
        for view, index in chunk.number_views():
            for m in self._runs.finditer(view):
                run = m.group()
                if run in looked_up:
                    insurer = looked_up[run]
                else:
                    insurer = looked_up[run] = self.registry.policy_insurer(self.registry.digest("p", run))
                if insurer is None:
                    continue
                k, start = chunk.locate(index[m.start()])
                span = (start, start + index[m.end() - 1] + 1 - index[m.start()])
                line_out = out.setdefault(k, {})
                if not any(s < span[1] and span[0] < e for s, e in line_out):
                    line_out[span] = Finding(
                        DETECTOR_NUMBER,
                        run,
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
        # Each distinct run of name characters is looked at once (a mail repeats its runs: column
        # labels, insurer and product names in every row of a list, set phrases in letters), and
        # only runs holding a name are walked again for their places.
        hits: dict[str, list[tuple[int, int, int]]] = {}
        for text in set(_NAME_RUNS.findall(view)):  # a name has two characters at least
            key = hash(text)  # a salted 64-bit hash: no mail text is kept between messages
            if key in self._no_name_runs:
                continue
            # Hiragana become katakana here, per run, rather than over the whole text (one
            # character for one: offsets are unchanged).
            found = self._names_in_run(kana_to_katakana(text))
            if found:
                hits[text] = found  # runs holding a name are not remembered
                continue
            if len(self._no_name_runs) >= _PREFIX_MEMO:
                self._no_name_runs.clear()
            self._no_name_runs.add(key)
        out: list[Finding] = []
        if not hits:
            return out
        for run in _NAME_RUNS.finditer(view):
            for i, length, mask in hits.get(run.group(), ()):
                s, e = index[run.start() + i], index[run.start() + i + length - 1] + 1
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

    def _names_in_run(self, run: str) -> list[tuple[int, int, int]]:
        """Registered names in one run of name characters: (offset, length, holders' mask) each."""
        # The Bloom test is inlined: it runs for every candidate span and dominates the cost.
        bloom, seed, bits = self.registry.name_bloom, self.registry.bloom_seed, BLOOM_BITS - 1
        end = len(run)
        out: list[tuple[int, int, int]] = []
        taken_to = 0  # after a hit, the next name starts after it
        for i in self._starts(run, 0, end):
            if i < taken_to:
                continue
            for length in range(min(self.nmax, end - i), self.nmin - 1, -1):  # longest first
                key = run[i : i + length]
                bit = crc32(key.encode(), seed) & bits
                if not bloom[bit >> 3] >> (bit & 7) & 1:
                    continue
                mask = self.registry.name_mask(self.registry.digest("n", key))
                if mask:
                    out.append((i, length, mask))
                    taken_to = i + length
                    break
        return out
