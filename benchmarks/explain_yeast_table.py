"""benchmarks/results/explain-yeast.md from a bench_explain_yeast.sh work folder (stdout).

    python benchmarks/explain_yeast_table.py /tmp/explain-yeast-bench [--threads 1 ...]

Reads WORK/steps.tsv (step times), WORK/yeast/runs/*.json (CNN validation metrics, explain-regions
counts), WORK/yeast/scores/cnn.tsv (test ROC-AUC) and WORK/yeast/explain/motifs.tsv, and writes the
motif table with a rule-based reading of it: which patterns match a known yeast open-chromatin
factor (top-3 TOMTOM match at q < Q_MAX) and which are low-complexity (poly-dA:dT, GC-rich).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
from collections import OrderedDict

Q_MAX = 0.05
NOTES_BEGIN = "<!-- notes: begin (hand-written, kept by explain_yeast_table.py --existing) -->"
NOTES_END = "<!-- notes: end -->"
# General regulatory / open-chromatin factors of S. cerevisiae with a JASPAR fungi matrix, and
# the site a yeast biologist would recognise.
KNOWN = OrderedDict([
    ("REB1", "TTACCCG"), ("ABF1", "RTCRYNNNNNACG"), ("RAP1", "ACACCCRTACAYY"), ("CBF1", "CACGTG"),
    ("MCM1", "CCYWWWWWRG (CArG)"), ("TBF1", "TTAGGG"), ("RSC3", "CGCG"), ("RSC30", "CGCG"),
])
# Sites searched in the sequences (regular expressions on the forward strand; both strands are
# searched, a palindromic site counts once): the data's enrichment and the CNN's attributions there.
SITES = OrderedDict([
    ("Reb1", "TTACCCG"), ("Abf1", "[AG]TC[AG][CT].....ACG"), ("Rap1", "[AG][AC]ACCCA..CA[CT][CT]"),
    ("Cbf1 / E-box", "CACGTG"), ("Mcm1 CArG", "CC[AT]{6}GG"), ("Tbf1", "TTAGGG"), ("RSC (CGCG)", "CGCG"),
    ("poly-dA:dT (>= 8)", "A{8}|T{8}"),
])


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def read_text(path: str, default: str = "?") -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip() or default
    except OSError:
        return default


def test_metrics(path: str) -> tuple[float | None, float | None, int, int]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    try:
        with open(path, encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    except OSError:
        return None, None, 0, 0
    y = [int(r["label"]) for r in rows]
    p = [float(r["p"]) for r in rows]
    if len(set(y)) < 2:
        return None, None, len(y), sum(y)
    return roc_auc_score(y, p), average_precision_score(y, p), len(y), sum(y)


def read_motifs(path: str) -> list[dict]:
    """Patterns in file order, each with its matches [(rank, name, family, p, q, strand)]."""
    patterns: OrderedDict[str, dict] = OrderedDict()
    with open(path, encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            pt = patterns.setdefault(r["pattern"], {"pattern": r["pattern"], "seqlets": int(r["seqlets"]),
                                                    "consensus": r["consensus"], "matches": []})
            if r["match"]:
                pt["matches"].append({"rank": int(r["rank"]), "name": r["match"], "family": r["family"],
                                      "p": float(r["p_value"]), "q": float(r["q_value"]), "strand": r["strand"]})
    return list(patterns.values())


def factor(name: str) -> str:
    """'MA0363.3 REB1' -> 'REB1'."""
    return name.split(" ", 1)[-1].upper()


def composition(consensus: str) -> str:
    """'poly-dA:dT', 'A/T-rich', 'GC-rich' ('GC-rich, CGCG' with a CpG-dense core, the RSC site rather
    than plain G+C) or '' from a consensus (case ignored)."""
    s = consensus.upper()
    if not s:
        return ""
    at = sum(c in "AT" for c in s) / len(s)
    gc = 1 - at
    if re.search(r"A{5,}|T{5,}", s) and at >= 0.8:
        return "poly-dA:dT"
    if at >= 0.8:
        return "A/T-rich"
    if gc >= 0.8:
        return "GC-rich, CGCG" if "CGCG" in s else "GC-rich"
    return ""


def read_fasta(path: str) -> list[tuple[str, str, str]]:
    """(id, label, upper-case sequence) of a labelled FASTA."""
    out, head, chunks = [], None, []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if line.startswith(">"):
                if head is not None:
                    out.append((*head, "".join(chunks).upper()))
                words = line[1:].split()
                label = next((w[6:] for w in words[1:] if w.startswith("label=")), "")
                head, chunks = (words[0], label), []
            else:
                chunks.append(line)
    if head is not None:
        out.append((*head, "".join(chunks).upper()))
    return out


def site_spans(seq: str, pattern: str) -> list[tuple[int, int]]:
    """Forward-coordinate [start, end) of every (overlapping) match on either strand; a span
    found on both strands (a palindrome) once."""
    rx = re.compile(f"(?=({pattern}))")
    rc = seq[::-1].translate(str.maketrans("ACGT", "TGCA"))
    spans = {(m.start(), m.start() + len(m.group(1))) for m in rx.finditer(seq)}
    spans |= {(len(seq) - m.start() - len(m.group(1)), len(seq) - m.start()) for m in rx.finditer(rc)}
    return sorted(spans)


def site_table(D: str, splits: list[str], explain_dir: str) -> list[str]:
    """Per known site: instances per kb in the positives and negatives of the explained split(s),
    and the CNN's integrated-gradient contribution of the instances in the explained positives
    (sum over the site minus the same number of the region's average bases: log-odds)."""
    import numpy as np

    from enhancer_tools.interpret.tables import read_attributions

    recs = [r for s in splits for r in read_fasta(os.path.join(D, "split", f"{s}.fa"))]
    pos = [q for _, lab, q in recs if lab == "1"]
    neg = [q for _, lab, q in recs if lab == "0"]
    ig = {}
    npz = os.path.join(explain_dir, "attributions.npz")
    if os.path.exists(npz):
        z = read_attributions(npz)
        if "ig" in z:
            for rid, seq, off, v in zip(z["ids"], z["sequences"], z["offset"], z["ig"]):
                per_base = np.zeros(len(seq))
                per_base[int(off):int(off) + v.shape[1]] = v.sum(axis=0)
                ig[str(rid)] = (str(seq).upper(), per_base)
    kb_pos = sum(map(len, pos)) / 1000 or 1
    kb_neg = sum(map(len, neg)) / 1000 or 1
    lines = [("| site | regex (either strand) | per kb, positives | per kb, negatives | ratio | "
              "instances in explained positives | mean IG excess per instance (log-odds) | share > 0 |"),
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, pattern in SITES.items():
        n_pos = sum(len(site_spans(q, pattern)) for q in pos)
        n_neg = sum(len(site_spans(q, pattern)) for q in neg)
        excess = []
        for seq, per_base in ig.values():
            mean = per_base.mean()
            excess += [per_base[a:b].sum() - (b - a) * mean for a, b in site_spans(seq, pattern)]
        ratio = f"{(n_pos / kb_pos) / (n_neg / kb_neg):.1f}" if n_neg else "(none in negatives)"
        ig_cells = (f"{len(excess)} | {np.mean(excess):+.3f} | {np.mean(np.array(excess) > 0):.2f}" if excess
                    else f"{len(excess)} | | ")
        lines.append(f"| {name} | `{pattern.replace('|', chr(92) + '|')}` | {n_pos / kb_pos:.2f} | "
                     f"{n_neg / kb_neg:.2f} | {ratio} | {ig_cells} |")
    return lines


def epoch_text(cnn: dict) -> str:
    """'6 of 10 (stopped early)' from enhancernet-train's --json."""
    best, epochs = cnn.get("best_epoch"), cnn.get("epochs")
    ran = len(epochs) if isinstance(epochs, list) else epochs
    text = f"{int(best) if isinstance(best, (int, float)) else '?'} of {ran if ran is not None else '?'}"
    return text + (" (stopped early)" if cnn.get("stopped_early") else "")


def kept(existing: str) -> str | None:
    """The hand-written notes between the markers of the previous results file, if any."""
    if existing and os.path.exists(existing):
        with open(existing, encoding="utf-8") as fh:
            text = fh.read()
        if NOTES_BEGIN in text and NOTES_END in text:
            return text.split(NOTES_BEGIN, 1)[1].split(NOTES_END, 1)[0].strip("\n")
    return None


def fmt_q(q: float) -> str:
    return f"{q:.2g}" if q >= 0.001 else f"{q:.1e}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("work")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--splits", default="test")
    ap.add_argument("--method", default="ig")
    ap.add_argument("--ig-steps", default="32")
    ap.add_argument("--motifs", default="JASPAR2024")
    ap.add_argument("--tax-group", default="fungi")
    ap.add_argument("--cnn-opts", default="")
    ap.add_argument("--explain-opts", default="")
    ap.add_argument("--existing", default="", help="the previous results file: its hand-written notes are kept")
    a = ap.parse_args()
    D = os.path.join(a.work, "yeast")
    R = os.path.join(D, "runs")
    cnn = read_json(os.path.join(R, "enhancernet-train.json"))
    expl = read_json(os.path.join(R, "explain-regions.json"))
    val = cnn.get("validation", {})
    roc, pr, n_test, n_test_pos = test_metrics(os.path.join(D, "scores", "cnn.tsv"))
    patterns = read_motifs(os.path.join(D, "explain", "motifs.tsv"))
    steps = []
    with open(os.path.join(a.work, "steps.tsv"), encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                steps.append((parts[1], float(parts[2])))
    n_regions = expl.get("counts", {}).get("regions", "?")

    knobs = [f"THREADS={a.threads}"]
    if a.splits != "test":
        knobs.append(f'EXPLAIN_SPLITS="{a.splits}"')
    if a.method != "ig":
        knobs.append(f"METHOD={a.method}")
    if a.ig_steps != "32":
        knobs.append(f"IG_STEPS={a.ig_steps}")
    if a.tax_group != "fungi":
        knobs.append(f"TAX_GROUP={a.tax_group}")
    if a.cnn_opts:
        knobs.append(f'CNN_OPTS="{a.cnn_opts}"')
    if a.explain_opts:
        knobs.append(f'EXPLAIN_OPTS="{a.explain_opts}"')
    out = []
    w = out.append
    w("# explain-regions on yeast ATAC peaks (issue 20, real data)")
    w("")
    w(f"Generated by `{' '.join(knobs)} bash benchmarks/bench_explain_yeast.sh` "
      f"(tables by `benchmarks/explain_yeast_table.py`), finished {read_text(os.path.join(a.work, 'finished'))}.")
    w("")
    w(f"- Machine: `nproc` {read_text(os.path.join(a.work, 'nproc'))}, CPU {read_text(os.path.join(a.work, 'cpu_model'), cpu_model())}; "
      f"load average at the end {read_text(os.path.join(a.work, 'loadavg'))} "
      "(the cores are shared with other jobs, so times are indicative).")
    w("- Data: `../shared/data/yeast_sacCer3_atac/hmmratac_yeast500k_accessible_regions.narrowPeak` on sacCer3; "
      "bed-summit-window 500 bp on the summit (chrM excluded), background-windows GC-matched 1:1, fasta-rc-dedup, "
      "dataset-split holding out whole chromosomes (val chrIV, test chrVII + chrXV); `benchmarks/bench_real_data.sh "
      "STAGE=prep DATASETS=yeast`.")
    w(f"- Model: enhancernet-train, its defaults{(' + ' + a.cnn_opts) if a.cnn_opts else ''}, seed {a.seed}, CPU, "
      f"{a.threads} thread(s); best epoch {epoch_text(cnn)}.")
    w(f"- Explained: the {n_regions} positives (label=1) of the held-out {' + '.join(a.splits.split())} split"
      f"{'s' if len(a.splits.split()) > 1 else ''}; `explain-regions --method {a.method} --steps {a.ig_steps} "
      f"--modisco --motifs {a.motifs} --tax-group {a.tax_group}` (integrated gradients averaged over both strands, "
      "tfmodisco-lite on the hypothetical contributions, TOMTOM against JASPAR 2024 CORE "
      f"{a.tax_group}, q-values Benjamini-Hochberg over each pattern's comparisons).")
    w("")
    w("## CNN")
    w("")
    w("| split | n (positives) | ROC-AUC | PR-AUC |")
    w("|---|---:|---:|---:|")
    if val:
        w(f"| validation (chrIV) | {val.get('n', '?')} ({val.get('n_positive', '?')}) | {val['roc_auc']:.3f} | {val['pr_auc']:.3f} |")
    if roc is not None:
        w(f"| test (chrVII, chrXV) | {n_test} ({n_test_pos}) | {roc:.3f} | {pr:.3f} |")
    w("")
    w("The test split was scored for this record only; nothing was chosen on it.")
    w("")
    w("## Wall times")
    w("")
    w("| step | s |")
    w("|---|---:|")
    for name, sec in steps:
        w(f"| {name} | {sec:.1f} |")
    w(f"| **total (script)** | {read_text(os.path.join(a.work, 'wall_seconds'))} |")
    w("")
    w(f"## Motifs ({len(patterns)} patterns, {sum(p['seqlets'] for p in patterns)} seqlets)")
    w("")
    w("`pos_*` patterns raise the CNN's enhancer score, `neg_*` lower it. Consensus: the most likely base, "
      "lower-case where it has under half the probability (pattern trimmed to its core). Matches: TOMTOM's "
      f"three best by p-value, q-value in brackets, **bold** when q < {Q_MAX}.")
    w("")
    w("| pattern | seqlets | consensus | composition | match 1 (q) | match 2 (q) | match 3 (q) |")
    w("|---|---:|---|---|---|---|---|")
    for pt in patterns:
        cells = []
        for m in pt["matches"][:3]:
            text = f"{m['name']} ({fmt_q(m['q'])})"
            cells.append(f"**{text}**" if m["q"] < Q_MAX else text)
        cells += [""] * (3 - len(cells))
        w(f"| {pt['pattern']} | {pt['seqlets']} | `{pt['consensus']}` | {composition(pt['consensus'])} | "
          + " | ".join(cells) + " |")
    if not patterns:
        w("| (none: tfmodisco-lite found no pattern) | | | | | | |")
    w("")

    # Rule-based reading.
    w("## Reading (rule-based, from the table above)")
    w("")
    hits: OrderedDict[str, list[str]] = OrderedDict()
    for pt in patterns:
        for m in pt["matches"][:3]:
            f = factor(m["name"])
            if f in KNOWN and m["q"] < Q_MAX:
                sign = "raises the score" if pt["pattern"].startswith("pos") else "lowers the score"
                hits.setdefault(f, []).append(f"{pt['pattern']} ({sign}; rank {m['rank']}, q {fmt_q(m['q'])})")
    matched = [pt for pt in patterns if pt["matches"] and pt["matches"][0]["q"] < Q_MAX]
    low = [pt for pt in patterns if composition(pt["consensus"])]
    seqlets_all = sum(p["seqlets"] for p in patterns) or 1
    w(f"- Patterns whose best JASPAR fungi match has q < {Q_MAX}: {len(matched)} of {len(patterns)}"
      + (" (" + ", ".join(f"{p['pattern']}: {factor(p['matches'][0]['name'])}" for p in matched) + ")." if matched else "."))
    for f, site in KNOWN.items():
        where = hits.get(f)
        w(f"- {f.capitalize()} ({site}): " + ("**found** in " + "; ".join(where) if where
                                               else f"not among any pattern's top-3 matches at q < {Q_MAX}") + ".")
    w(f"- Low-complexity patterns (consensus >= 80% A/T or G/C): {len(low)} of {len(patterns)}, "
      f"{sum(p['seqlets'] for p in low)} of {seqlets_all if patterns else 0} seqlets"
      + (" (" + ", ".join(f"{p['pattern']} {composition(p['consensus'])}" for p in low) + ")." if low else "."))
    w("")
    w("## Known sites: in the data, and in the CNN's attributions")
    w("")
    w("Whether the signals are there to be learnt, independently of tfmodisco-lite: instances of each site "
      f"(either strand) per kb in the positives and negatives of the {' + '.join(a.splits.split())} split, and in the "
      "explained positives the integrated-gradient contribution of each instance (the sum over its bases minus as "
      "many of the region's average bases, log-odds; > 0: the CNN counts the site towards accessibility).")
    w("")
    out.extend(site_table(D, a.splits.split(), os.path.join(D, "explain")))
    w("")
    w("## Reading (hand-written; kept when the tables are regenerated, so check it against them)")
    w("")
    w(NOTES_BEGIN)
    w(kept(a.existing) or "(no notes yet)")
    w(NOTES_END)
    print("\n".join(out))


if __name__ == "__main__":
    main()
