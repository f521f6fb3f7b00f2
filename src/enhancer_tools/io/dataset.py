"""The labelled dataset convention used by every tool after windowing.

FASTA: ``>ID label=<class> [key=value ...]``, for example
``>peak_17 label=1 region=chr1:1000-2000(+)``. TSV or CSV: a header row naming a ``sequence``
column and a ``label`` column (the DNABERT-2 fine-tuning CSV layout), optionally ``id`` and
any other columns, which become attributes. The format is detected from the first non-blank
character ('>' means FASTA).
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from enhancer_tools.errors import UserError
from enhancer_tools.io.compressed import open_binary
from enhancer_tools.io.fasta import read_fasta
from enhancer_tools.seq import invalid_characters

_REGION = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>\d+)-(?P<end>\d+)(?:\((?P<strand>[+\-.])\))?$")


@dataclass(slots=True)
class LabelledRecord:
    """A sequence with its class label (text, e.g. '1') and header attributes."""

    id: str
    seq: str
    label: str | None
    attrs: dict[str, str] = field(default_factory=dict)
    line: int = 0

    def header(self) -> str:
        """The FASTA header text (without '>') in the dataset convention."""
        return format_header(self.id, self.label, self.attrs)


@dataclass(slots=True, frozen=True)
class Region:
    """A genomic region parsed from a ``region=chrom:start-end(strand)`` attribute (0-based, half-open)."""

    chrom: str
    start: int
    end: int
    strand: str = "."

    def __str__(self) -> str:
        return f"{self.chrom}:{self.start}-{self.end}({self.strand})"


def parse_region(text: str) -> Region | None:
    """Parse ``chrom:start-end(strand)``; None when it is not in that form."""
    m = _REGION.match(text)
    if not m:
        return None
    return Region(m["chrom"], int(m["start"]), int(m["end"]), m["strand"] or ".")


def format_header(rec_id: str, label: str | None, attrs: dict[str, str] | None = None) -> str:
    """``ID label=X key=value ...`` (label first; attributes in their given order)."""
    parts = [rec_id]
    if label is not None:
        parts.append(f"label={label}")
    for k, v in (attrs or {}).items():
        if k != "label":
            parts.append(f"{k}={v}")
    return " ".join(parts)


def parse_description(description: str) -> tuple[str | None, dict[str, str]]:
    """Split a FASTA description into (label, other key=value attributes); words without '='
    are kept under ``desc``."""
    label = None
    attrs: dict[str, str] = {}
    loose = []
    for token in description.split():
        key, sep, value = token.partition("=")
        if not sep:
            loose.append(token)
        elif key == "label":
            label = value
        else:
            attrs[key] = value
    if loose:
        attrs["desc"] = "_".join(loose)
    return label, attrs


def _sniff_fasta(path) -> bool:
    with open_binary(path) as fh:
        for raw in fh:
            s = raw.strip()
            if s:
                return s.startswith(b">")
    raise UserError("file is empty", path)


def _decoded_lines(fh, path) -> Iterator[str]:
    """The file's lines as text, decoded one by one so that a bad byte is reported on its own
    line (a UTF-8 byte-order mark at the start is dropped)."""
    for line_no, raw in enumerate(fh, start=1):
        try:
            yield raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
        except UnicodeDecodeError:
            raise UserError("line is not valid UTF-8 text", path, line_no) from None


def _read_table(path, default_label: str | None) -> Iterator[LabelledRecord]:
    with open_binary(path) as fh:
        text = _decoded_lines(fh, path)
        first = next(text, "")
        delim = "\t" if "\t" in first else ","
        header = [h.strip().lower() for h in next(csv.reader([first], delimiter=delim))]
        if "sequence" not in header:
            raise UserError(
                "not FASTA, and the header row has no 'sequence' column; a table needs "
                "'sequence' and 'label' columns (tab or comma separated)",
                path,
                1,
            )
        if "label" not in header and default_label is None:
            raise UserError("table has no 'label' column (and no label was given for this file)", path, 1)
        i_seq = header.index("sequence")
        i_lab = header.index("label") if "label" in header else None
        i_id = next((header.index(k) for k in ("id", "name") if k in header), None)
        others = [(i, h) for i, h in enumerate(header) if h and i not in (i_seq, i_lab, i_id)]
        for line_no, row in enumerate(csv.reader(text, delimiter=delim), start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise UserError(f"expected {len(header)} columns as in the header, found {len(row)}", path, line_no)
            seq = row[i_seq].strip()
            if not seq:
                raise UserError("empty sequence", path, line_no)
            bad = invalid_characters(seq.encode("ascii", "replace"))
            if bad:
                raise UserError(f"sequence has characters that are not IUPAC DNA: {bad[:10].decode('ascii', 'replace')!r}", path, line_no)
            label = row[i_lab].strip() if i_lab is not None else default_label
            rec_id = row[i_id].strip() if i_id is not None else f"row{line_no - 1}"
            attrs = {h: row[i].strip().replace(" ", "_") for i, h in others if row[i].strip()}
            yield LabelledRecord(rec_id, seq, label, attrs, line_no)


def read_dataset(
    path: str | os.PathLike,
    default_label: str | None = None,
    require_label: bool = True,
    unique_ids: bool = True,
) -> Iterator[LabelledRecord]:
    """Yield labelled records from a FASTA or TSV/CSV dataset file.

    ``default_label`` applies to records without ``label=`` (e.g. ``--label-for FILE=1``).
    Raises UserError (file, line) for a missing label when ``require_label``, an empty
    sequence, a duplicate id when ``unique_ids``, and any reader error.
    """
    try:
        yield from _checked_records(path, default_label, require_label, unique_ids)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise UserError(f"damaged or truncated gzip stream ({exc})", path) from None


def _checked_records(path, default_label, require_label: bool, unique_ids: bool) -> Iterator[LabelledRecord]:
    seen: set[str] = set()
    if _sniff_fasta(path):
        records: Iterator[LabelledRecord] = (
            LabelledRecord(r.id, r.seq, *parse_description(r.description), r.line) for r in read_fasta(path)
        )
    else:
        records = _read_table(path, default_label)
    for rec in records:
        if rec.label is None:
            rec.label = default_label
        if rec.label is None and require_label:
            raise UserError(
                f"record {rec.id!r} has no label= in its header; add 'label=<class>' or give the file a label",
                path,
                rec.line,
            )
        if not rec.seq:
            raise UserError(f"record {rec.id!r} has an empty sequence", path, rec.line)
        if unique_ids:
            if rec.id in seen:
                raise UserError(f"duplicate record id {rec.id!r}; ids must be unique within a file", path, rec.line)
            seen.add(rec.id)
        yield rec
