"""explain-regions' data files: attributions (.npz), per-region ISM tables, motifs.tsv and the
MultiQC custom-content table of motifs."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from enhancer_tools.interpret.ism import BASES

ISM_COLUMNS = ("id", "position", "ref", "alt", "delta_logodds")
MOTIF_COLUMNS = ("pattern", "seqlets", "consensus", "rank", "match", "family", "p_value", "q_value", "strand")


def write_attributions(path: str, ids: Sequence[str], seqs: Sequence[str], arrays: dict[str, list[np.ndarray]],
                       offsets: Sequence[int]) -> None:
    """One .npz without pickled objects (``np.load`` needs no ``allow_pickle``): ``ids``,
    ``sequences``, ``offset`` (first attributed position of each region), ``length`` (attributed
    positions of each region) and, per method, one float32 [4, sum(length)] array (rows A, C, G, T):
    the regions' [4, L] arrays side by side, in ``ids`` order. ``read_attributions`` splits them."""
    lengths = [int(np.shape(v)[1]) for v in next(iter(arrays.values()), [])]
    packed = {}
    for name, values in arrays.items():
        if [int(np.shape(v)[1]) for v in values] != lengths:
            raise ValueError(f"{name}: the regions' attribution lengths differ from the other method's")
        packed[name] = (np.concatenate([np.asarray(v, dtype=np.float32) for v in values], axis=1) if values
                        else np.zeros((4, 0), dtype=np.float32))
    with open(path, "wb") as fh:
        np.savez_compressed(fh, ids=np.array(ids), sequences=np.array(seqs), offset=np.array(offsets, dtype=np.int64),
                            length=np.array(lengths, dtype=np.int64), **packed)


def read_attributions(path: str) -> dict:
    """``write_attributions``' file as a dict: ``ids``, ``sequences``, ``offset``, ``length`` arrays
    and, per method present, a list of [4, L] float32 arrays, one per region."""
    with np.load(path) as data:
        out = {key: data[key] for key in ("ids", "sequences", "offset", "length")}
        bounds = np.cumsum(out["length"])[:-1]
        for method in ("ism", "ig"):
            if method in data.files:
                out[method] = np.split(data[method], bounds, axis=1) if len(out["ids"]) else []
    return out


def ism_rows(region_id: str, seq: str, delta: np.ndarray, offset: int):
    """Rows (id, 1-based position in the region, ref, alt, Δ log-odds) of one region's ISM,
    identity edits left out."""
    for col in range(delta.shape[1]):
        pos = offset + col
        ref = seq[pos].upper()
        for b, alt in enumerate(BASES):
            if alt != ref:
                yield region_id, pos + 1, ref, alt, float(delta[b, col])


def write_ism_table(fh, region_id: str, seq: str, delta: np.ndarray, offset: int, header: bool) -> None:
    """Append one region's ISM rows (with the header first when ``header``)."""
    if header:
        fh.write("\t".join(ISM_COLUMNS) + "\n")
    fh.writelines(f"{i}\t{p}\t{r}\t{a}\t{d:.6g}\n" for i, p, r, a, d in ism_rows(region_id, seq, delta, offset))


def consensus(ppm: np.ndarray) -> str:
    """Most likely base per column, lower-case where it has under half the probability."""
    return "".join(BASES[i] if ppm[i, c] >= 0.5 else BASES[i].lower() for c, i in enumerate(ppm.argmax(axis=0)))


def write_motifs(fh, patterns) -> None:
    """motifs.tsv: one row per (pattern, match rank); a pattern without matches gets one row."""
    fh.write("\t".join(MOTIF_COLUMNS) + "\n")
    for pt in patterns:
        head = f"{pt.name}\t{pt.seqlets}\t{consensus(pt.ppm)}"
        if not pt.matches:
            fh.write(f"{head}\t\t\t\t\t\t\n")
        for rank, m in enumerate(pt.matches, 1):
            fh.write(f"{head}\t{rank}\t{m.name}\t{m.family}\t{m.p:.3g}\t{m.q:.3g}\t{m.strand}\n")


def multiqc_table(patterns, q_max: float = 0.05) -> dict:
    """MultiQC custom content (a table, explicit ids) of the patterns and their best match."""
    data = {}
    for pt in patterns:
        best = pt.matches[0] if pt.matches else None
        data[pt.name] = {"seqlets": pt.seqlets, "consensus": consensus(pt.ppm),
                         "best_match": best.name if best and best.q < q_max else "",
                         "q_value": round(best.q, 4) if best else None}
    return {"id": "enhancer_tools_explain_motifs", "section_name": "Motifs learned by the model",
            "description": f"tfmodisco-lite patterns in explain-regions' attributions; best known-motif "
                           f"match by TOMTOM shown when q < {q_max}.",
            "plot_type": "table", "pconfig": {"id": "enhancer_tools_explain_motifs_table",
                                              "title": "enhancer-tools: explain-regions motifs"},
            "data": data}


def write_multiqc(fh, patterns) -> None:
    """The ``explain_regions_mqc.json`` custom-content file."""
    json.dump(multiqc_table(patterns), fh, indent=1)
