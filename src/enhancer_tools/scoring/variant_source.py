"""What score-variants reads: VCF/BCF records (pysam), checked and turned into REF/ALT windows.

``VcfSource`` makes one validating pass first (record count, chromosomes, malformed records:
a clear error before any output is written), so ``--shard I/N`` can take its contiguous block
of records as score-regions does. Plain gzip (which htslib cannot seek) is decompressed to a
temporary file; bgzip, plain VCF and BCF are read directly.

Per ALT allele, in this order, the reasons an allele is not scored (stable codes, used in the
rejects TSV and the run info): ``no_alt_allele`` (ALT ``.``), ``unknown_chromosome``,
``ref_past_chromosome_end``, ``ref_mismatch`` (REF differs from the genome, case ignored),
``symbolic_allele`` (``<DEL>``, ``<*>``, ``*``), ``breakend``, ``invalid_allele`` (not
A/C/G/T/N), ``indel_too_long`` (``|len(ALT) - len(REF)| > --max-indel``), then the window's
own (``genome.windows``: ``off_chromosome_end``, ``chromosome_shorter_than_window``,
``too_many_n``; ``allele_longer_than_window``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

from enhancer_tools.errors import UserError
from enhancer_tools.genome import windows as W
from enhancer_tools.scoring.sources import Shard
from enhancer_tools.scoring.variant_windows import alt_window, ref_window

log = logging.getLogger(__name__)

NO_ALT = "no_alt_allele"
REF_PAST_END = "ref_past_chromosome_end"
REF_MISMATCH = "ref_mismatch"
SYMBOLIC = "symbolic_allele"
BREAKEND = "breakend"
INVALID_ALLELE = "invalid_allele"
INDEL_TOO_LONG = "indel_too_long"
_BASES = re.compile(r"^[ACGTNacgtn]+$")
_BREAKEND = re.compile(r"[\[\]]|^\.[A-Za-z]+$|^[A-Za-z]+\.$")


@dataclass
class VariantItem:
    """One VCF record of the shard: its text, REF window and each ALT's window or reject."""

    number: int  # 1-based record number in the VCF
    line: str  # the record as VCF text (no newline)
    chrom: str
    pos: int  # 1-based, as in the VCF
    vid: str
    ref: str
    alts: tuple[str, ...]
    start: int = 0
    end: int = 0
    ref_seq: str | None = None
    alt_seqs: list[str | None] = field(default_factory=list)
    rejects: list[tuple[str, str, str]] = field(default_factory=list)  # (alt, reason, detail)


@dataclass
class WindowRule:
    """How windows are cut (see ``scoring.variant_windows``)."""

    width: int
    edge: str = "drop"
    max_indel: int = 50
    max_n_frac: float = W.DEFAULT_MAX_N_FRAC


def _naming_hint(unknown, genome_names) -> str:
    has_chr = any(c.startswith("chr") for c in genome_names)
    if any(c.startswith("chr") != has_chr for c in unknown):
        return (" (the genome names chromosomes " + ("with" if has_chr else "without")
                + " a 'chr' prefix: rename the VCF's with 'bcftools annotate --rename-chrs')")
    return ""


class VcfSource:
    """The records of a VCF/BCF (see the module docstring)."""

    def __init__(self, path: str, fasta, tmp: str) -> None:
        from enhancer_tools.genome.reference import chrom_sizes
        from enhancer_tools.io.compressed import is_gzip

        self.path, self.fasta = path, fasta
        self.sizes = chrom_sizes(fasta)
        self.read_path = path
        if is_gzip(path) and not _is_bgzip(path):
            self.read_path = os.path.join(tmp, "input.vcf")
            _gunzip(path, self.read_path)
        self.count, self.chroms, self._header = _prepass(path, self.read_path)
        unknown = [c for c in self.chroms if c not in self.sizes]
        if self.count and len(unknown) == len(self.chroms):
            raise UserError(f"none of the VCF's chromosomes ({', '.join(unknown[:3])}) is in the genome "
                            f"({', '.join(list(self.sizes)[:3])}){_naming_hint(unknown, self.sizes)}", path)
        if unknown:
            log.warning("%d chromosome name(s) of the VCF are not in the genome (e.g. %s); their variants are "
                        "rejected%s", len(unknown), ", ".join(unknown[:3]), _naming_hint(unknown, self.sizes))

    def header(self):
        """The input's pysam header, with what htslib added while reading (contigs, INFO and
        FORMAT keys the records use but the header does not declare)."""
        return self._header

    def items(self, rule: WindowRule, shard: Shard | None = None) -> Iterator[VariantItem]:
        """The shard's records (all without ``shard``) with their windows, in file order."""
        import pysam

        lo, hi = (shard or Shard()).block(self.count)
        with pysam.VariantFile(self.read_path) as vcf:
            for i, rec in enumerate(vcf):
                if i >= hi:
                    break
                if i >= lo:
                    yield self._item(i + 1, rec, rule)

    def _item(self, number: int, rec, rule: WindowRule) -> VariantItem:
        alts = tuple(rec.alts or ())
        item = VariantItem(number, str(rec).rstrip("\n"), rec.chrom, rec.pos, rec.id or ".", rec.ref, alts)
        reason, detail = self._record_check(rec, rule)
        if reason is None and not alts:
            reason, detail = NO_ALT, "the record has no ALT allele"
        if reason is not None:
            item.rejects = [(alt, reason, detail) for alt in (alts or (".",))]
            item.alt_seqs = [None] * len(alts)
            return item
        return self._windows(item, rec.start, rule)

    def _record_check(self, rec, rule: WindowRule) -> tuple[str | None, str]:
        size = self.sizes.get(rec.chrom)
        if size is None:
            return W.UNKNOWN_CHROM, f"chromosome {rec.chrom} is not in the genome{_naming_hint([rec.chrom], self.sizes)}"
        ref = rec.ref
        if rec.start + len(ref) > size:
            return REF_PAST_END, f"REF ends past the end of {rec.chrom} (length {size}): wrong genome build?"
        genome_ref = self.fasta.fetch(rec.chrom, rec.start, rec.start + len(ref))
        if genome_ref.upper() != ref.upper():
            return REF_MISMATCH, f"REF {ref} but the genome has {genome_ref} at {rec.chrom}:{rec.pos}: wrong genome build?"
        return None, ""

    def _windows(self, item: VariantItem, pos0: int, rule: WindowRule) -> VariantItem:
        size = self.sizes[item.chrom]
        win = ref_window(pos0, len(item.ref), rule.width, size, rule.edge)
        if win.reason is None:
            item.start, item.end = win.start, win.end
            item.ref_seq = self.fasta.fetch(item.chrom, win.start, win.end)
            n = item.ref_seq.count("N") + item.ref_seq.count("n")
            if rule.max_n_frac < 1 and n > rule.max_n_frac * len(item.ref_seq):
                win = type(win)(reason=W.TOO_MANY_N, detail=f"more than {rule.max_n_frac:g} of the REF window is N")
                item.ref_seq = None

        def fetch(a: int, b: int) -> str:
            return self.fasta.fetch(item.chrom, a, b) if b > a else ""

        for alt in item.alts:
            seq, reason, detail = None, *_allele_reason(alt, item.ref, rule.max_indel)
            if reason is None and win.reason is not None:
                reason, detail = win.reason, win.detail
            if reason is None:
                seq, reason, detail = alt_window(fetch, size, win, pos0, len(item.ref), alt, rule.edge)
            item.alt_seqs.append(seq)
            if reason is not None:
                item.rejects.append((alt, reason, detail))
        if all(s is None for s in item.alt_seqs):
            item.ref_seq = None
        return item


def _allele_reason(alt: str, ref: str, max_indel: int) -> tuple[str | None, str]:
    if alt.startswith("<") or alt == "*":
        return SYMBOLIC, f"symbolic ALT {alt} has no sequence"
    if _BREAKEND.search(alt):
        return BREAKEND, f"breakend ALT {alt}"
    if not _BASES.match(alt):
        return INVALID_ALLELE, f"ALT {alt} is not A/C/G/T/N"
    if abs(len(alt) - len(ref)) > max_indel:
        return INDEL_TOO_LONG, f"indel of {abs(len(alt) - len(ref))} bp is longer than --max-indel {max_indel}"
    return None, ""


def _is_bgzip(path: str) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(18)
    return len(head) >= 14 and bool(head[3] & 0x04) and head[12:14] == b"BC"


def _gunzip(path: str, target: str) -> None:
    import gzip
    import zlib

    try:
        with gzip.open(path, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise UserError(f"damaged or truncated gzip stream ({exc})", path) from None


def _prepass(path: str, read_path: str):
    """Count the records, list their chromosomes (first-seen order) and copy the header as
    htslib completed it; a malformed file or record is a UserError naming the line."""
    import pysam

    previous = pysam.set_verbosity(0)
    count, chroms = 0, {}
    try:
        try:
            vcf = pysam.VariantFile(read_path)
        except (ValueError, OSError):
            raise UserError("not a VCF or BCF file (no '##fileformat=VCF' header?)", path) from None
        with vcf:
            try:
                for rec in vcf:
                    count += 1
                    chroms.setdefault(rec.chrom, None)
            except (ValueError, OSError) as exc:
                raise _malformed(path, read_path, count, exc) from None
            header = vcf.header.copy()
    finally:
        pysam.set_verbosity(previous)
    return count, list(chroms), header


def _malformed(path: str, read_path: str, good: int, exc: Exception) -> UserError:
    """A UserError for the record after the ``good`` readable ones, with its line and what is
    wrong when the text shows it."""
    from enhancer_tools.io.compressed import open_binary

    try:
        with open_binary(read_path) as fh:
            n_header, line_no, text = 0, 0, None
            for line_no, raw in enumerate(fh, 1):
                if raw.startswith(b"#"):
                    n_header += 1
                elif line_no == n_header + good + 1:
                    text = raw.decode("utf-8", "replace").rstrip("\r\n")
                    break
    except (OSError, EOFError, UnicodeDecodeError):
        text = None
    if text is None:
        return UserError(f"malformed VCF/BCF record after record {good} ({exc})", path)
    fields = text.split("\t")
    if len(fields) < 8:
        what = f"{len(fields)} tab-separated columns, a VCF record needs at least 8"
    elif not fields[1].isdigit():
        what = f"POS {fields[1]!r} is not a positive integer"
    else:
        what = f"htslib cannot parse this record ({exc})"
    return UserError(f"malformed VCF record: {what}", path, line_no)
