"""Small VCFs and a score-variants runner for the score-variants tests (tiny models come from
score_helpers)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

VCF_HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def write_vcf(path: Path, records, header: str = VCF_HEADER) -> Path:
    """``records``: (chrom, pos 1-based, id, ref, alt) tuples, or ready VCF lines."""
    with open(path, "w") as fh:
        fh.write(header)
        for rec in records:
            fh.write(rec if isinstance(rec, str) else "\t".join(map(str, rec)) + "\t.\t.\t.")
            fh.write("\n")
    return path


def run_variants(args, **kwargs):
    """Run score-variants in-process; returns click's Result."""
    from enhancer_tools.cli.score_variants import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)


def effects(path: Path) -> list[dict]:
    """The effects TSV as dicts."""
    lines = Path(path).read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]
