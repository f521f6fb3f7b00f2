"""score-variants' outputs: the annotated VCF (bgzip + tabix index), the effects TSV, the rejects
TSV.

VCF: every input record of the shard, in input order, with four INFO fields (Number=A, one
value per ALT, ``.`` for an ALT that was not scored; a record none of whose ALTs was scored is
written unchanged): ``ET_PREF``, ``ET_PALT``, ``ET_DLOGIT``, ``ET_FLIP`` (declared in the header;
values of the same keys already in the input are replaced). Chromosomes the records name but
the header does not declare are added as ``##contig`` lines (with the genome's length).

Sorting: a tabix index needs each chromosome's records together and in position order. Sorted
input gives sorted output, which is indexed as it is. Unsorted input (allowed) is sorted by
htslib's ``bcftools sort`` (bundled with pysam: an external merge sort in ``--sort-memory``
chunks, so memory stays bounded) in the header's contig order, then indexed; the run info says
``"sorted_by_tool": true``. Sorting was chosen over refusing to index because an unindexed
VCF is what the user would have to fix by hand next, and over sorting in Python because
htslib's sort is the one every downstream tool agrees with.
"""

from __future__ import annotations

import os
import shutil

EFFECT_COLUMNS = ("chrom", "pos", "id", "ref", "alt", "window_start", "window_end", "p_ref", "p_alt", "delta_p",
                  "dlogit", "flip")
REJECT_COLUMNS = ("record", "chrom", "pos", "id", "ref", "alt", "reason", "detail")
INFO_FIELDS = (
    ("ET_PREF", "Float", ("score-variants: calibrated enhancer probability of the REF window, sigmoid(z_ref/T) with "
                          "z the strand-averaged log-odds and T the model's temperature (per ALT)")),
    ("ET_PALT", "Float", "score-variants: calibrated enhancer probability of the ALT window, sigmoid(z_alt/T)"),
    ("ET_DLOGIT", "Float", ("score-variants: calibrated log-odds ALT minus REF, (z_alt - z_ref)/T = "
                            "ln(odds_alt/odds_ref), the log odds ratio")),
    ("ET_FLIP", "Integer", ("score-variants: call change at the model's threshold: 1 gain (REF below, ALT at or "
                            "above), -1 loss, 0 none")),
)
_KEYS = tuple(key for key, _, _ in INFO_FIELDS)


def _fmt(value: float) -> str:
    return f"{value:.7g}"


def output_header(header, chroms, sizes) -> str:
    """The output header text: the input's, with the INFO fields and missing contigs added."""
    header = header.copy()
    for key, kind, text in INFO_FIELDS:
        if key in header.info:
            header.info.remove_header(key)
        header.info.add(key, "A", kind, text)
    for chrom in chroms:
        if chrom not in header.contigs:
            header.contigs.add(chrom, length=sizes.get(chrom))
    return str(header)


def annotate_line(line: str, values: list[tuple[str, str, str, str] | None]) -> str:
    """The VCF record ``line`` with the ET_* INFO fields of ``values`` (one tuple of formatted
    strings per ALT, None for an ALT not scored)."""
    fields = line.split("\t")
    kept = [kv for kv in fields[7].split(";") if kv != "." and kv.split("=", 1)[0] not in _KEYS]
    if any(v is not None for v in values):
        for k, key in enumerate(_KEYS):
            kept.append(f"{key}=" + ",".join("." if v is None else v[k] for v in values))
    fields[7] = ";".join(kept) or "."
    return "\t".join(fields)


class VcfWriter:
    """Writes the annotated VCF (bgzip) to ``tmp_path``; ``finish`` sorts if needed and indexes."""

    def __init__(self, tmp_path: str, header_text: str) -> None:
        import pysam

        self.path = tmp_path
        self.fh = pysam.BGZFile(tmp_path, "wb")
        self.fh.write(header_text.encode())
        self.seen: set[str] = set()
        self.last: tuple[str, int] | None = None
        self.sorted = True
        self.buffer: list[str] = []

    def write(self, line: str, chrom: str, pos: int) -> None:
        """Append one record (text without newline)."""
        if self.last is not None and (chrom != self.last[0] and chrom in self.seen
                                      or chrom == self.last[0] and pos < self.last[1]):
            self.sorted = False
        self.seen.add(chrom)
        self.last = (chrom, pos)
        self.buffer.append(line)
        if len(self.buffer) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.fh.write(("\n".join(self.buffer) + "\n").encode())
            self.buffer = []

    def finish(self, index_path: str, tmp: str, sort_memory: str) -> bool:
        """Close, sort when the records are out of order, write the tabix index to
        ``index_path``; returns True when this tool sorted the records."""
        import pysam

        self.flush()
        self.fh.close()
        sorted_here = not self.sorted
        if sorted_here:
            import pysam.bcftools

            target = os.path.join(tmp, "sorted.vcf.gz")
            work = os.path.join(tmp, "sort")
            os.makedirs(work, exist_ok=True)
            pysam.bcftools.sort("-o", target, "-O", "z", "-m", sort_memory, "-T", work, self.path, catch_stdout=False)
            shutil.move(target, self.path)
        pysam.tabix_index(self.path, preset="vcf", force=True, index=index_path)
        return sorted_here


def effect_rows(item, p_ref: float, p_alt: list, dlogit: list, flip: list) -> list[str]:
    """The effects TSV lines of one record (scored ALTs only)."""
    rows = []
    for alt, pa, dl, fl in zip(item.alts, p_alt, dlogit, flip):
        if pa is None:
            continue
        rows.append("\t".join([item.chrom, str(item.pos), item.vid, item.ref, alt, str(item.start), str(item.end),
                               _fmt(p_ref), _fmt(pa), _fmt(pa - p_ref), _fmt(dl), str(fl)]))
    return rows


def reject_rows(item) -> list[str]:
    """The rejects TSV lines of one record."""
    return ["\t".join([str(item.number), item.chrom, str(item.pos), item.vid, item.ref, alt, reason,
                       detail.replace("\t", " ")]) for alt, reason, detail in item.rejects]


def info_values(p_ref: float, p_alt: list, dlogit: list, flip: list) -> list[tuple[str, str, str, str] | None]:
    """Formatted ET_* values per ALT (None where not scored)."""
    return [None if pa is None else (_fmt(p_ref), _fmt(pa), _fmt(dl), str(fl)) for pa, dl, fl in zip(p_alt, dlogit, flip)]
