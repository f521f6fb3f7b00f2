"""Open a reference genome FASTA for random access (pysam/htslib faidx).

Plain and bgzip-compressed FASTA files are accepted. An existing ``.fai`` (and ``.gzi`` for
bgzip) next to the FASTA is used; a missing one is created there. A plain-gzip FASTA cannot
be indexed for random access, so it gets a UserError telling the user to recompress it with
``bgzip``.
"""

from __future__ import annotations

import logging
import os

from enhancer_tools.errors import UserError

log = logging.getLogger(__name__)
_GZIP_MAGIC = b"\x1f\x8b"


def _compression(path: str) -> str:
    """'plain', 'bgzip' or 'gzip', from the first bytes (bgzip has a 'BC' extra subfield)."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if head[:2] != _GZIP_MAGIC:
        return "plain"
    has_extra = len(head) >= 14 and head[3] & 0x04
    return "bgzip" if has_extra and head[12:14] == b"BC" else "gzip"


def open_genome(path: str | os.PathLike):
    """Open ``path`` as a ``pysam.FastaFile``, creating its ``.fai``/``.gzi`` when missing.

    Raises UserError for a missing, unreadable or plain-gzip file, an index that cannot be
    written, or a file htslib cannot read as FASTA.
    """
    import pysam

    path = os.fspath(path)
    if not os.path.exists(path):
        raise UserError("genome FASTA not found", path)
    if os.path.isdir(path):
        raise UserError("genome is a folder, not a FASTA file", path)
    try:
        kind = _compression(path)
    except PermissionError:
        raise UserError("permission denied reading the genome FASTA", path) from None
    if kind == "gzip":
        raise UserError(
            "genome is gzip-compressed, which cannot be indexed for random access; recompress it "
            "with bgzip (zcat GENOME.fa.gz | bgzip > GENOME.fa.bgz) or decompress it",
            path,
        )
    if kind == "plain":
        with open(path, "rb") as fh:
            first = fh.read(4096).lstrip()[:1]
        if first != b">":
            raise UserError("genome does not start with a '>' header: not a FASTA file?", path)
    fai = path + ".fai"
    if os.path.exists(fai) and os.path.getmtime(fai) < os.path.getmtime(path):
        log.warning("%s is older than the genome FASTA; if the FASTA changed, delete the index", fai)
    needs_index = not os.path.exists(fai) or (kind == "bgzip" and not os.path.exists(path + ".gzi"))
    if needs_index:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.access(folder, os.W_OK):
            raise UserError(
                f"the genome has no index and its folder {folder} is not writable; run "
                "'samtools faidx' on a writable copy, or put the FASTA where the index can be written",
                path,
            )
        log.info("indexing %s (once; the .fai is kept next to it)", path)
    try:
        fasta = pysam.FastaFile(path)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read or index the genome FASTA ({exc}); is it a FASTA file?", path) from None
    if fasta.nreferences == 0:
        raise UserError("genome FASTA has no sequences", path)
    return fasta


def chrom_sizes(fasta) -> dict[str, int]:
    """Chromosome name -> length, in the genome's order."""
    return dict(zip(fasta.references, fasta.lengths))
