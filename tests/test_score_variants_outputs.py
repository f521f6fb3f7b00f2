"""score-variants' outputs: an annotated, bgzipped, tabix-indexed VCF that pysam, bcftools and
tabix read (INFO fields declared, one value per ALT), the effects TSV, the run info; unsorted
input comes out sorted and indexed; an empty VCF gives a header-only VCF; gzip, bgzip and BCF
inputs give the same records; --shard blocks concatenate to the unsharded output."""

import gzip
import json
import shutil
import subprocess

import pysam
import pytest
from score_helpers import make_cnn_dir, write_genome
from variant_helpers import VCF_HEADER, effects, run_variants, write_vcf

KEYS = ("ET_PREF", "ET_PALT", "ET_DLOGIT", "ET_FLIP")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("variants")
    model = make_cnn_dir(folder / "cnn", width=80)
    seqs = write_genome(folder / "genome.fa")
    return folder, model, seqs


def _records(seqs, unsorted: bool = False):
    g1, g2 = seqs["chr1"], seqs["chr2"]
    recs = [("chr1", 101, "a", g1[100], "A" if g1[100] != "A" else "C"),
            ("chr1", 901, "b", g1[900], ",".join(b for b in "ACGT" if b != g1[900].upper())),
            ("chr2", 201, "c", g2[200], "<DEL>"),
            ("chr2", 401, "d", g2[400:403], g2[400]),
            ("chr2", 601, "e", g2[600], g2[600] + "TTT")]
    return [recs[3], recs[0], recs[4], recs[1], recs[2]] if unsorted else recs


def _run(folder, model, vcf, name="out", extra=()):
    result = run_variants(["--model", model, "--vcf", vcf, "-g", folder / "genome.fa", "-o", folder / f"{name}.vcf.gz",
                           "--tsv", folder / f"{name}.tsv", "--json", folder / f"{name}.json", "-q", *extra])
    assert result.exit_code == 0, result.output
    return folder / f"{name}.vcf.gz"


def test_pysam_reads_the_annotated_vcf_and_its_index(setup):
    folder, model, seqs = setup
    out = _run(folder, model, write_vcf(folder / "in.vcf", _records(seqs)))
    assert (folder / "out.vcf.gz.tbi").exists()
    with pysam.VariantFile(str(out)) as vcf:
        for key in KEYS:
            assert vcf.header.info[key].number == "A"
        recs = list(vcf)
    assert [r.id for r in recs] == ["a", "b", "c", "d", "e"]
    b = recs[1]
    assert len(b.info["ET_PALT"]) == 3 and all(0 < p < 1 for p in b.info["ET_PALT"])
    assert "ET_PREF" not in recs[2].info  # the symbolic ALT: record kept, not annotated
    rows = {(r["id"], r["alt"]): r for r in effects(folder / "out.tsv")}
    assert len(rows) == 6
    for alt, p in zip(b.alts, b.info["ET_PALT"]):
        assert abs(float(rows["b", alt]["p_alt"]) - p) < 1e-5
    with pysam.VariantFile(str(out)) as vcf:
        assert [r.id for r in vcf.fetch("chr2", 390, 420)] == ["d"]
    info = json.loads((folder / "out.json").read_text())
    assert info["counts"]["alleles"] == 7 and info["counts"]["alleles_scored"] == 6
    assert info["counts"]["rejects_by_reason"] == {"symbolic_allele": 1}
    assert info["sorted_by_tool"] is False and info["window"]["width"] == 80


@pytest.mark.skipif(shutil.which("bcftools") is None or shutil.which("tabix") is None,
                    reason="bcftools/tabix not installed (Debian packages bcftools and tabix; make system-deps)")
def test_bcftools_and_tabix_read_the_output(setup):
    folder, model, seqs = setup
    out = _run(folder, model, write_vcf(folder / "in2.vcf", _records(seqs)), "bt")
    header = subprocess.run(["bcftools", "view", "-h", str(out)], capture_output=True, text=True, check=True).stdout
    for key in KEYS:
        assert f"##INFO=<ID={key},Number=A" in header
    query = subprocess.run(["bcftools", "query", "-f", "%ID\t%ET_DLOGIT\n", str(out)], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert len(query) == 5 and query[2] == "c\t."
    region = subprocess.run(["tabix", str(out), "chr1:850-950"], capture_output=True, text=True, check=True).stdout
    assert [line.split("\t")[2] for line in region.splitlines()] == ["b"]


def test_unsorted_input_is_sorted_and_indexed(setup):
    folder, model, seqs = setup
    out = _run(folder, model, write_vcf(folder / "unsorted.vcf", _records(seqs, unsorted=True)), "uns")
    with pysam.VariantFile(str(out)) as vcf:  # in the header's contig order (here: first seen)
        assert [r.id for r in vcf] == ["c", "d", "e", "a", "b"]
        assert [r.id for r in vcf.fetch("chr1", 0, 200)] == ["a"]
    assert json.loads((folder / "uns.json").read_text())["sorted_by_tool"] is True
    assert len(effects(folder / "uns.tsv")) == 6  # the TSV keeps input order
    assert effects(folder / "uns.tsv")[0]["id"] == "d"


def test_empty_vcf_gives_a_header_only_output(setup):
    folder, model, _ = setup
    out = _run(folder, model, write_vcf(folder / "empty.vcf", []), "empty")
    with pysam.VariantFile(str(out)) as vcf:
        assert list(vcf) == [] and "ET_DLOGIT" in vcf.header.info
    assert (folder / "empty.vcf.gz.tbi").exists()
    assert (folder / "empty.tsv").read_text().count("\n") == 1
    assert json.loads((folder / "empty.json").read_text())["counts"]["records_written"] == 0


def test_gzip_bgzip_and_bcf_inputs_give_the_same_effects(setup):
    folder, model, seqs = setup
    header = VCF_HEADER.replace("#CHROM", "##contig=<ID=chr1,length=1200>\n##contig=<ID=chr2,length=900>\n"
                                 '##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n#CHROM')
    plain = write_vcf(folder / "p.vcf", _records(seqs), header)  # BCF needs the contigs declared
    with open(plain, "rb") as src, gzip.open(folder / "p.gzip.vcf.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    pysam.tabix_compress(str(plain), str(folder / "p.bgzip.vcf.gz"), force=True)
    with pysam.VariantFile(str(plain)) as src, pysam.VariantFile(str(folder / "p.bcf"), "wb", header=src.header) as dst:
        for rec in src:
            dst.write(rec)
    expected = (_run(folder, model, plain, "plain"), effects(folder / "plain.tsv"))[1]
    for name in ("p.gzip.vcf.gz", "p.bgzip.vcf.gz", "p.bcf"):
        _run(folder, model, folder / name, "x")
        assert effects(folder / "x.tsv") == expected, name


def test_shards_concatenate_to_the_unsharded_output(setup):
    folder, model, seqs = setup
    vcf = write_vcf(folder / "sh.vcf", _records(seqs))
    _run(folder, model, vcf, "all")
    parts = []
    for i in (1, 2, 3):
        _run(folder, model, vcf, f"part{i}", ["--shard", f"{i}/3"])
        parts.append((folder / f"part{i}.tsv").read_text().splitlines())
    joined = parts[0] + [line for part in parts[1:] for line in part[1:]]
    assert joined == (folder / "all.tsv").read_text().splitlines()
