"""The two forms a detector takes: one interface for every detector, modelled on presidio's
recognizers and detect-secrets' plugins (one module each; a pattern proposes, the module's
validate and invalidate steps keep or drop).

- The line form (`LineForm.find`): every finding in a chunk of a segment's lines, each with its
  offsets in its own line (detect/chunk.py joins the lines and shares the normalised views; a line
  is read exactly as if alone, tests/test_chunk.py). Each detector module has one:
  policy_number.py (PolicyNumberFinder), names.py (the module itself), insurers.py
  (MentionFinder), dates.py (the module itself) and registry.py (RegistryFinder). Detectors
  (detectors.py) runs them in order and merges what they find: a registry hit confirms the number
  or name it covers, and the agency's own people are not customers.
- The column form (`ColumnForm`): a column of a table's cells read at once. DigitColumn
  (digit_column.py) is the column form of the policy-number and registry detectors for cells of
  digits: it learns a template from the line form's reading of the first cell of each key, and
  tests/test_digit_column.py holds it to the line form. A column without a column form is read by
  the line form once per distinct cell (detect/cells.py).

Validate and invalidate: a policy number's match is validated by its insurer's check digits
(checkdigits.py) and invalidated as a look-alike — a date, a telephone number, part of a longer
token (policy_number.is_lookalike); a date that is no day is dropped (dates.py); a name is
invalidated when it is one of the agency's own people or under a staff label
(Detectors._not_a_customer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dlp_gateway.detect.chunk import Chunk
    from dlp_gateway.detect.digit_column import Found, TableMemo, Tokens
    from dlp_gateway.model import Finding


class LineForm(Protocol):
    def find(self, chunk: Chunk, segment: int) -> list[Finding]:
        """Every finding in the chunk's lines, in line order, offsets within each line."""
        ...


class ColumnForm(Protocol):
    def read(self, cells: Sequence[str], memo: TableMemo) -> tuple[Found, Tokens]:
        """Each cell's findings (`title:value` cells, of any columns), or None for a cell the line
        form must read; and the template each was read by."""
        ...

    def read_values(self, title: str, values: Sequence[str], memo: TableMemo) -> tuple[Found, Tokens]:
        """`read` for one column given as its title and values."""
        ...
