"""explain-regions' figures (sequence logos and attribution tracks via logomaker/matplotlib) and
its one-page HTML summary; images are files beside the HTML (Galaxy's extra_files_path)."""

from __future__ import annotations

import html
import os

import numpy as np

from enhancer_tools.interpret.ism import BASES


def _logo(matrix: np.ndarray, title: str, path_stem: str, formats=("png", "svg"), width: float = 0.0) -> list[str]:
    """Draw a [4, L] matrix as a logo; write ``path_stem.<format>`` files; return their names."""
    import logomaker
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    frame = pd.DataFrame(matrix.T, columns=list(BASES))
    fig, ax = plt.subplots(figsize=(width or max(3.0, 0.3 * matrix.shape[1]), 1.8))
    try:
        logomaker.Logo(frame, ax=ax, color_scheme="classic")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        fig.tight_layout()
        names = []
        for fmt in formats:
            fig.savefig(f"{path_stem}.{fmt}", dpi=110)
            names.append(os.path.basename(f"{path_stem}.{fmt}"))
    finally:
        plt.close(fig)
    return names


def information_logo(ppm: np.ndarray) -> np.ndarray:
    """Bits per base (probability x information content) of a probability matrix."""
    p = np.clip(ppm, 1e-6, 1)
    ic = 2 + (p * np.log2(p)).sum(axis=0)
    return ppm * ic


def draw_pattern_logos(patterns, folder: str) -> dict[str, list[str]]:
    """Per pattern, its contribution (CWM) logo and its sequence (bits) logo: {name: files}."""
    files = {}
    for pt in patterns:
        files[pt.name] = (_logo(pt.cwm, f"{pt.name} contributions", os.path.join(folder, f"{pt.name}_cwm"))
                          + _logo(information_logo(pt.ppm), f"{pt.name} sequence (bits)",
                                  os.path.join(folder, f"{pt.name}_ppm")))
    return files


def draw_region_track(region_id: str, values: np.ndarray, folder: str, stem: str) -> str:
    """The observed-base attribution of one region as a logo (PNG); returns the file name."""
    return _logo(values, f"{region_id}", os.path.join(folder, stem), formats=("png",), width=12.0)[0]


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def summary_page(info: dict, patterns, pattern_files: dict, region_files: list[tuple[str, str]],
                 q_max: float = 0.05) -> str:
    """The HTML summary: the run's facts, the motif table with logos, region attribution tracks."""
    facts = "".join(f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in info.items())
    rows = []
    for pt in patterns:
        best = [m for m in pt.matches if m.q < q_max]
        match = "<br>".join(f"{html.escape(m.name)} (q={m.q:.2g})" for m in best) or "no match (q &lt; 0.05)"
        logos = "".join(f'<img src="{html.escape(f)}" height="70">' for f in pattern_files.get(pt.name, [])
                        if f.endswith(".png"))
        rows.append([html.escape(pt.name), str(pt.seqlets), logos, match])
    motifs = _table(["pattern", "seqlets", "logos", f"known motifs (TOMTOM, q < {q_max})"], rows) if rows else \
        "<p>No motif patterns (run with --modisco on enough regions).</p>"
    tracks = "".join(f'<h3>{html.escape(rid)}</h3><img src="{html.escape(f)}" width="900">' for rid, f in region_files)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>explain-regions</title>"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px}</style></head><body>"
            f"<h1>explain-regions</h1><ul>{facts}</ul><h2>Motifs</h2>{motifs}"
            f"<h2>Attributions of the top regions</h2>{tracks}</body></html>\n")
