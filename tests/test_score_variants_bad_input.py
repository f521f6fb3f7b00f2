"""score-variants on bad input: malformed VCFs and unknown chromosomes are one-line errors (exit
2, nothing written); REF mismatches, symbolic and breakend ALTs, long indels, records without
ALT and windows off a chromosome end are rejects with their reason, while the other ALTs of a
multi-allelic record are still scored."""

import pytest
from score_helpers import make_cnn_dir, write_genome
from variant_helpers import effects, run_variants, write_vcf


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("variants_bad")
    model = make_cnn_dir(folder / "cnn", width=80)
    seqs = write_genome(folder / "genome.fa")
    return folder, model, seqs


def _run(folder, model, vcf, extra=()):
    out = folder / "out"
    out.mkdir(exist_ok=True)
    for f in out.iterdir():
        f.unlink()
    result = run_variants(["--model", model, "--vcf", vcf, "-g", folder / "genome.fa", "-o", out / "o.vcf.gz",
                           "--tsv", out / "o.tsv", "--rejects", out / "r.tsv", *extra])
    return result, out


@pytest.mark.parametrize("line, message", [
    ("chr2\tabc\tx\tA\tG\t.\t.\t.", "malformed VCF record: POS 'abc' is not a positive integer"),
    ("chr2\t300\tx\tA", "malformed VCF record: 4 tab-separated columns, a VCF record needs at least 8"),
])
def test_malformed_record_is_one_line_error_naming_the_line(setup, line, message):
    folder, model, seqs = setup
    g = seqs["chr2"]
    vcf = write_vcf(folder / "bad.vcf", [("chr2", 101, "ok", g[100], "A"), line])
    result, out = _run(folder, model, vcf)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == f"Error: {vcf}:4: {message}"
    assert list(out.iterdir()) == []


def test_not_a_vcf(setup):
    folder, model, _ = setup
    path = folder / "notvcf.vcf"
    path.write_text("hello\nworld\n")
    result, out = _run(folder, model, path)
    assert result.exit_code == 2 and "not a VCF or BCF file" in result.stderr
    assert list(out.iterdir()) == []


def test_no_chromosome_in_the_genome_is_an_error_with_a_naming_hint(setup):
    folder, model, _ = setup
    vcf = write_vcf(folder / "nochr.vcf", [("1", 101, "x", "A", "G"), ("2", 50, "y", "C", "T")])
    result, out = _run(folder, model, vcf)
    assert result.exit_code == 2
    assert "none of the VCF's chromosomes (1, 2) is in the genome" in result.stderr
    assert "with a 'chr' prefix" in result.stderr and "bcftools annotate --rename-chrs" in result.stderr
    assert list(out.iterdir()) == []


def test_rejects_with_reasons_and_multi_allelic_records(setup):
    folder, model, seqs = setup
    g1, g2 = seqs["chr1"], seqs["chr2"]
    wrong = "A" if g2[300].upper() != "A" else "C"
    recs = [
        ("chr2", 301, "mismatch", wrong, "G"),
        ("chr2", 401, "multi", g2[400], ",".join(["<DEL>", "A" if g2[400].upper() != "A" else "C", "*"])),
        ("chr2", 451, "bnd", g2[450], f"{g2[450]}[chr1:5["),
        ("chr2", 501, "long", g2[500], g2[500] + "A" * 51),
        ("chr2", 551, "noalt", g2[550], "."),
        ("chr2", 10, "edge", g2[9], "A" if g2[9].upper() != "A" else "C"),
        ("chr1", 501, "gap", g1[500], "A"),
        ("chrUn", 5, "unknown", "A", "G"),
        ("chr2", 601, "iupac", g2[600], "R"),
    ]
    result, out = _run(folder, model, write_vcf(folder / "rej.vcf", recs))
    assert result.exit_code == 0, result.output
    assert "chrUn" in result.stderr and "not in the genome" in result.stderr
    rejects = {(r["id"], r["alt"]): r["reason"] for r in effects(out / "r.tsv")}
    alt = recs[1][4].split(",")
    assert rejects == {
        ("mismatch", "G"): "ref_mismatch", ("multi", "<DEL>"): "symbolic_allele", ("multi", "*"): "symbolic_allele",
        ("bnd", recs[2][4]): "breakend", ("long", recs[3][4]): "indel_too_long", ("noalt", "."): "no_alt_allele",
        ("edge", recs[5][4]): "off_chromosome_end", ("gap", "A"): "too_many_n", ("unknown", "G"): "unknown_chromosome",
        ("iupac", "R"): "invalid_allele"}
    scored = effects(out / "o.tsv")
    assert [(r["id"], r["alt"]) for r in scored] == [("multi", alt[1])]
    import pysam

    with pysam.VariantFile(str(out / "o.vcf.gz")) as vcf:
        recs_out = {r.id: r for r in vcf}
    assert len(recs_out) == len(recs)
    multi = recs_out["multi"].info["ET_PALT"]
    assert multi[0] is None and multi[1] is not None and multi[2] is None
    assert "ET_PALT" not in recs_out["mismatch"].info


def test_output_may_not_overwrite_the_input(setup):
    folder, model, _ = setup
    vcf = write_vcf(folder / "same.vcf.gz", [])
    result = run_variants(["--model", model, "--vcf", vcf, "-g", folder / "genome.fa", "-o", vcf])
    assert result.exit_code == 2 and "would overwrite the input" in result.stderr


def test_edge_shift_scores_a_variant_near_the_chromosome_end(setup):
    folder, model, seqs = setup
    g2 = seqs["chr2"]
    vcf = write_vcf(folder / "shift.vcf", [("chr2", 10, "edge", g2[9], "A" if g2[9].upper() != "A" else "C"),
                                           ("chr2", 5, "del", g2[4:8], g2[4])])
    result, out = _run(folder, model, vcf, ["--edge", "shift"])
    assert result.exit_code == 0, result.output
    rows = effects(out / "o.tsv")
    assert [(r["id"], r["window_start"], r["window_end"]) for r in rows] == [("edge", "0", "80"), ("del", "0", "80")]
