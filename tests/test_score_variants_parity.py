"""A VCF record scored by score-variants gets the p of score-regions on its REF and ALT windows
written out by hand (CNN and DNABERT-2, SNV, multi-allelic, insertion, deletion); an SNV and its
reverse-complement representation (the same variant on the reverse-complemented genome) get the
same dlogit with strand averaging."""

import math
import random

import pytest
from score_helpers import (
    make_cnn_dir,
    make_dnabert2_dir,
    random_seq,
    read_tsv,
    run_cli,
    write_fasta,
    write_genome,
)
from variant_helpers import effects, run_variants, write_vcf

from enhancer_tools.seq import reverse_complement


@pytest.fixture(params=["enhancernet", "dnabert2"])
def model(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "enhancernet":
        return make_cnn_dir(folder / "model", width=80)
    return make_dnabert2_dir(folder / "model", width=60)


def _hand_windows(g: str, width: int) -> tuple[list, dict]:
    """Records on chr2 (0-based positions) and the windows score-variants must cut for them."""
    h = width // 2
    recs, windows = [], {}
    p = 450  # SNV, two ALTs
    s, e = p - h, p - h + width
    alts = [b for b in "ACGT" if b != g[p].upper()][:2]
    recs.append(("chr2", p + 1, "snv", g[p], ",".join(alts)))
    windows["snv", "ref"] = g[s:e]
    for a in alts:
        windows["snv", a] = g[s:p] + a + g[p + 1:e]
    p = 300  # deletion of 3 bp: REF span 4 bp centred at p + 2; 1 genome base added left, 2 right
    c = p + 2
    s, e = c - h, c - h + width
    recs.append(("chr2", p + 1, "del", g[p:p + 4], g[p]))
    windows["del", "ref"] = g[s:e]
    windows["del", g[p]] = g[s - 1:p] + g[p] + g[p + 4:e + 2]
    p = 600  # insertion of 5 bp: 2 bases trimmed left, 3 right
    s, e = p - h, p - h + width
    ins = g[p] + "ACGTA"
    recs.append(("chr2", p + 1, "ins", g[p], ins))
    windows["ins", "ref"] = g[s:e]
    windows["ins", ins] = g[s + 2:p] + ins + g[p + 1:e - 3]
    return recs, windows


def test_same_p_as_score_regions_on_hand_cut_windows(tmp_path, model):
    import json

    width = json.loads((model / "model.json").read_text())["window"]["width"]
    g = write_genome(tmp_path / "genome.fa")["chr2"]
    recs, windows = _hand_windows(g, width)
    assert all(len(seq) == width for seq in windows.values())
    write_vcf(tmp_path / "in.vcf", recs)
    result = run_variants(["--model", model, "--vcf", tmp_path / "in.vcf", "-g", tmp_path / "genome.fa",
                           "-o", tmp_path / "out.vcf.gz", "--tsv", tmp_path / "eff.tsv", "--batch-size", 3, "-q"])
    assert result.exit_code == 0, result.output
    keys = list(windows)
    write_fasta(tmp_path / "w.fa", [(f"w{i}", 0, windows[k]) for i, k in enumerate(keys)], with_label=False)
    result = run_cli(["--model", model, "--fasta", tmp_path / "w.fa", "-o", tmp_path / "s.tsv", "-q"])
    assert result.exit_code == 0, result.output
    header, rows = read_tsv(tmp_path / "s.tsv")
    p = {k: float(row[header.index("p")]) for k, row in zip(keys, rows)}
    rows = effects(tmp_path / "eff.tsv")
    assert len(rows) == 4
    for row in rows:
        assert math.isclose(float(row["p_ref"]), p[row["id"], "ref"], rel_tol=1e-5, abs_tol=1e-7)
        assert math.isclose(float(row["p_alt"]), p[row["id"], row["alt"]], rel_tol=1e-5, abs_tol=1e-7)
        assert math.isclose(float(row["dlogit"]), _logit(float(row["p_alt"])) - _logit(float(row["p_ref"])),
                            rel_tol=1e-4, abs_tol=1e-5)


def _logit(q: float) -> float:
    return math.log(q / (1 - q))


def _genome_pair(tmp_path, length: int = 301):
    rng = random.Random(11)
    seq = random_seq(rng, length)
    for name, s in (("fwd", seq), ("rev", reverse_complement(seq))):
        (tmp_path / f"{name}.fa").write_text(f">chr1\n{s}\n")
    return seq


def _rc_dlogits(tmp_path, model, width: int, rc_average: bool) -> tuple[list, list]:
    seq = _genome_pair(tmp_path)
    comp = {"A": "T", "C": "G", "G": "C", "T": "A"}
    fwd, rev = [], []
    for i, p in enumerate(range(width // 2 + 5, len(seq) - width // 2 - 5, 23)):
        alts = [b for b in "ACGT" if b != seq[p]]
        fwd.append(("chr1", p + 1, f"v{i}", seq[p], ",".join(alts)))
        rev.append(("chr1", len(seq) - p, f"v{i}", comp[seq[p]], ",".join(comp[a] for a in alts)))
    out = []
    for name, recs in (("fwd", fwd), ("rev", sorted(rev, key=lambda r: r[1]))):
        write_vcf(tmp_path / f"{name}.vcf", recs)
        result = run_variants(["--model", model, "--vcf", tmp_path / f"{name}.vcf", "-g", tmp_path / f"{name}.fa",
                               "--width", width, "-o", tmp_path / f"{name}.vcf.gz", "--tsv", tmp_path / f"{name}.tsv",
                               "--rc-average" if rc_average else "--no-rc-average", "-q"])
        assert result.exit_code == 0, result.output
        rows = effects(tmp_path / f"{name}.tsv")
        out.append({(r["id"], r["alt"] if name == "fwd" else comp[r["alt"]]): float(r["dlogit"]) for r in rows})
    return out[0], out[1]


@pytest.mark.parametrize("kind", ["enhancernet", "dnabert2"])
def test_snv_and_its_reverse_complement_give_the_same_delta(tmp_path, kind):
    """On the reverse-complemented genome the variant sits at L - P + 1 with complemented
    alleles; with an odd width its windows are exactly the reverse complements of the forward
    ones, so strand averaging must give the same dlogit (and, for a CNN without RC weight
    sharing, forward-only scoring does not: the test can fail)."""
    if kind == "enhancernet":
        model, width = make_cnn_dir(tmp_path / "m", width=81, rc_share=False), 81
    else:
        model, width = make_dnabert2_dir(tmp_path / "m", width=61), 61
    fwd, rev = _rc_dlogits(tmp_path, model, width, rc_average=True)
    assert len(fwd) >= 15 and fwd.keys() == rev.keys()
    for key in fwd:
        assert math.isclose(fwd[key], rev[key], rel_tol=1e-4, abs_tol=1e-5), key
    if kind == "enhancernet":
        fwd, rev = _rc_dlogits(tmp_path, model, width, rc_average=False)
        assert max(abs(fwd[k] - rev[k]) for k in fwd) > 1e-3
