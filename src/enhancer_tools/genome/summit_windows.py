"""The bed-summit-window pipeline: peaks -> summit-centred genome windows (FASTA + BED6).

Built for a million peaks in a few seconds: lines are parsed into numpy columns in one pass
(a lean parser that hands any line it does not accept to ``parse_interval`` for the exact
reason), every filter is vectorised, and sequences are sliced from large blocks of one
chromosome at a time instead of one ``faidx`` fetch per window.

Filters, in order: malformed line, chromosome filter, unknown chromosome, peak past the
chromosome end, summit outside its peak, chromosome-end policy, blacklist, duplicate
window (same coordinates and orientation; the first line wins), keep-strongest (optional),
too many N.

Output order: chromosomes in the order they first appear in the peaks file, then window
start (ties in file order), which is file order for a sorted peaks file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.genome import windows as W
from enhancer_tools.genome.records import assemble, const_block, digits_block, sequence_block, text_block
from enhancer_tools.io.compressed import open_binary
from enhancer_tools.io.intervals import parse_interval, read_intervals

log = logging.getLogger(__name__)

STRENGTH_COLUMNS = {"signal": 7, "pvalue": 8, "qvalue": 9, "score": 5}
_STRAND_CODE = {b".": 0, b"+": 1, b"-": 2}
_SKIP_PREFIXES = (b"#", b"track", b"browser")
_BLOCK = 1 << 21  # at most this many bases are fetched at once; windows are sliced out of the block
# At most this many windows are built at once: small blocks stay in malloc's reused memory
# instead of fresh mmap pages (page faults cost as much as the work with 10 MB blocks).
_WINDOWS_PER_BLOCK = 1024


@dataclass
class SummitWindowOptions:
    """What bed-summit-window was asked to do (see the CLI's --help for each option)."""

    width: int = W.DEFAULT_WIDTH
    edge: str = "drop"
    summit_col: int | None = None
    label: str = "1"
    max_n_frac: float = W.DEFAULT_MAX_N_FRAC
    chroms: str | None = None
    exclude_chroms: str | None = None
    blacklist: str | None = None
    strand_aware: bool = False
    upper: bool = False
    keep_strongest: bool = False
    min_distance: int | None = None
    strongest_by: str = "signal"


@dataclass
class PeakTable:
    """Parsed peaks as columns (one row per accepted line)."""

    chrom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    offset: np.ndarray  # summit offset from start; -1 = none
    strand: np.ndarray  # 0 '.', 1 '+', 2 '-'
    strength: np.ndarray
    line: np.ndarray
    names: np.ndarray  # fixed-width bytes ('S')
    lines_read: int = 0


@dataclass
class Rejects:
    """Rejected peak lines: line number -> (reason, detail)."""

    rows: dict[int, tuple[str, str]] = field(default_factory=dict)

    def add(self, line: int, reason: str, detail: str) -> None:
        self.rows[line] = (reason, detail)

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(r for r, _ in self.rows.values()).items()))

    def write(self, fh, peaks_path: str) -> None:
        """TSV: line, reason, detail, original line (in file order)."""
        fh.write("#line\treason\tdetail\toriginal_line\n")
        if not self.rows:
            return
        wanted = self.rows
        with open_binary(peaks_path) as src:
            for line_no, raw in enumerate(src, 1):
                if line_no in wanted:
                    reason, detail = wanted[line_no]
                    text = raw.decode("utf-8", "replace").rstrip("\r\n").replace("\t", " ")
                    fh.write(f"{line_no}\t{reason}\t{detail}\t{text}\n")


_CHUNK = 1 << 23  # bytes of peaks text parsed at once


def _chunks(path: str):
    """Yield ``(text, first_line_number)`` for runs of whole lines of the (decompressed) file."""
    line_no = 1
    rest = b""
    with open_binary(path) as fh:
        while True:
            block = fh.read(_CHUNK)
            if not block:
                break
            block = rest + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                rest = block
                continue
            rest = block[cut:]
            yield block[:cut], line_no
            line_no += block.count(b"\n", 0, cut)
    if rest:
        yield rest + b"\n", line_no


class _PeakColumns:
    """Accumulates parsed peak rows as lists of column arrays."""

    def __init__(self) -> None:
        self.parts: dict[str, list] = {k: [] for k in ("chrom", "start", "end", "offset", "strand", "strength", "line")}
        self.names: list[np.ndarray] = []

    def add(self, chrom, start, end, offset, strand, strength, line, names) -> None:
        for key, value in zip(self.parts, (chrom, start, end, offset, strand, strength, line)):
            self.parts[key].append(np.asarray(value))
        self.names.append(np.asarray(names, dtype="S"))

    def table(self, lines_read: int) -> PeakTable:
        dtypes = {"chrom": np.int32, "start": np.int64, "end": np.int64, "offset": np.int64, "strand": np.int8,
                  "strength": np.float64, "line": np.int64}
        cols = {k: np.concatenate(v).astype(dtypes[k]) if v else np.zeros(0, dtypes[k]) for k, v in self.parts.items()}
        names = np.concatenate(self.names) if self.names else np.zeros(0, dtype="S1")
        return PeakTable(names=names, lines_read=lines_read, **cols)


def build_peak_table(path: str, sizes: dict[str, int], chrom_filter: W.ChromFilter, rejects: Rejects,
                     summit_col: int | None, strength_col: int | None) -> PeakTable:
    """Parse the peaks file; malformed lines and rows on unknown/excluded chromosomes go to
    ``rejects``. Raises UserError for an empty file or a damaged gzip stream."""
    import gzip
    import zlib

    from enhancer_tools.genome.peak_columns import parse_chunk

    names_index = {name: i for i, name in enumerate(sizes)}
    chrom_ids: dict[bytes, int] = {}

    def chrom_id(chrom: bytes) -> int:
        ci = chrom_ids.get(chrom)
        if ci is None:
            ci = chrom_ids[chrom] = _classify(chrom, names_index, chrom_filter)
        return ci

    def reject_chrom(line_no: int, chrom: bytes, ci: int) -> None:
        name = chrom.decode("utf-8", "replace")
        if ci == -1:
            rejects.add(line_no, W.UNKNOWN_CHROM, f"chromosome {name} is not in the genome")
        else:
            rejects.add(line_no, W.EXCLUDED_CHROM, f"chromosome {name} excluded by --chroms/--exclude-chroms")

    out = _PeakColumns()
    n_rows = 0
    line_no = 0
    try:
        for chunk, first_line in _chunks(path):
            cols, irregular = parse_chunk(chunk, summit_col, strength_col)
            if cols is not None and len(cols["index"]):
                n_rows += len(cols["index"])
                lines = cols["index"] + first_line
                uniq, inverse = np.unique(cols["chrom_field"], return_inverse=True)
                ids = np.array([chrom_id(bytes(u)) for u in uniq], dtype=np.int32)[inverse.ravel()]
                for r in np.flatnonzero(ids < 0).tolist():
                    reject_chrom(int(lines[r]), bytes(cols["chrom_field"][r]), int(ids[r]))
                keep = ids >= 0
                out.add(ids[keep], cols["start"][keep], cols["end"][keep], cols["offset"][keep], cols["strand"][keep],
                        cols["strength"][keep], lines[keep], cols["names"][keep])
            if len(irregular):
                raw_lines = chunk.split(b"\n")
                for i in irregular.tolist():
                    line_no = first_line + i
                    row = _parse_line(raw_lines[i], line_no, summit_col, strength_col, rejects)
                    if row is None:
                        continue
                    n_rows += 1
                    if row is False:
                        continue
                    ci = chrom_id(row[0])
                    if ci < 0:
                        reject_chrom(line_no, row[0], ci)
                        continue
                    out.add([ci], [row[1]], [row[2]], [row[3]], [row[4]], [row[5]], [line_no], [row[6]])
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise UserError(f"damaged or truncated gzip stream ({exc})", path, line_no or None) from None
    if n_rows == 0:
        raise UserError("no intervals found (empty file, or only header/comment lines)", path)
    unknown = [c.decode("utf-8", "replace") for c, i in chrom_ids.items() if i == -1]
    if unknown:
        log.warning("%d chromosome name(s) in the peaks are not in the genome (e.g. %s); their peaks are rejected%s",
                    len(unknown), ", ".join(unknown[:3]), _naming_hint(unknown, sizes))
    return out.table(n_rows)


def _parse_line(raw: bytes, line_no: int, summit_col: int | None, strength_col: int | None, rejects: Rejects):
    """One line the vectorised parser did not take: None for a comment/header/blank line,
    False for a malformed line (recorded in ``rejects``), else
    ``(chrom, start, end, offset, strand, strength, name)``."""
    if raw.startswith(_SKIP_PREFIXES) or not raw.strip():
        return None
    fields = raw.rstrip(b"\r\n").split(b"\t") if b"\t" in raw else raw.split()
    n = len(fields)
    try:
        start = int(fields[1])
        end = int(fields[2])
        if summit_col is not None:
            off = int(fields[summit_col - 1])
        elif n == 10:
            off = int(fields[9])
        else:
            off = -1
        strength = float(fields[strength_col - 1]) if strength_col is not None else 0.0
        strand = _STRAND_CODE[fields[5]] if n > 5 else 0
        ok = start >= 0 and end > start and off >= -1 and len(fields[0]) > 0
    except (ValueError, IndexError, KeyError):
        ok = False
    if not ok:
        rejects.add(line_no, W.MALFORMED, _explain(fields, line_no, summit_col, strength_col))
        return False
    return fields[0], start, end, off, strand, strength, fields[3] if n > 3 else b""


def _classify(chrom: bytes, names_index: dict[str, int], chrom_filter: W.ChromFilter) -> int:
    name = chrom.decode("utf-8", "replace")
    if not chrom_filter.keep(name):  # the filter comes first, as --help says: chrUn_* is excluded, not unknown
        return -2
    return names_index.get(name, -1)


def _naming_hint(unknown: list[str], sizes: dict[str, int]) -> str:
    has_chr = any(c.startswith("chr") for c in sizes)
    if any(c.startswith("chr") != has_chr for c in unknown):
        return " (the genome names chromosomes " + ("with" if has_chr else "without") + " a 'chr' prefix)"
    return ""


def _explain(fields: list[bytes], line_no: int, summit_col: int | None, strength_col: int | None) -> str:
    """Why the lean parser refused a line, in ``parse_interval``'s words."""
    text = [f.decode("utf-8", "replace") for f in fields]
    try:
        parse_interval(text, line_no, summit_col)
    except ValueError as exc:
        return str(exc)
    if strength_col is not None:
        if len(text) < strength_col:
            return f"column {strength_col} (used by --strongest-by) is missing"
        return f"column {strength_col} (used by --strongest-by) is not a number: {text[strength_col - 1]!r}"
    return "line could not be read"


def iter_window_sequences(fasta, chrom: str, length: int, starts, ends):
    """Yield the sequence of each window (``starts`` ascending), sliced from large blocks."""
    lo = hi = 0
    block = ""
    for s, e in zip(starts, ends):
        if e > hi or s < lo:
            lo, hi = s, min(length, max(e, s + _BLOCK))
            block = fasta.fetch(chrom, lo, hi)
        yield block[s - lo : e - lo]


def _blacklist_mask(chrom_names: list[str], chrom: np.ndarray, starts: np.ndarray, ends: np.ndarray, blacklist: str) -> np.ndarray:
    """True for windows overlapping any blacklist interval (bedtools intersect -u)."""
    import pybedtools

    with tempfile.TemporaryDirectory(prefix="summit-windows-") as tmp:
        bl_path = os.path.join(tmp, "blacklist.bed")
        with open(bl_path, "w") as fh:
            for iv in read_intervals(blacklist):
                fh.write(f"{iv.chrom}\t{iv.start}\t{iv.end}\n")
        win_path = os.path.join(tmp, "windows.bed")
        with open(win_path, "w", buffering=1 << 20) as fh:
            for i, (c, s, e) in enumerate(zip(chrom.tolist(), starts.tolist(), ends.tolist())):
                fh.write(f"{chrom_names[c]}\t{s}\t{e}\t{i}\n")
        hits_path = os.path.join(tmp, "hits.bed")
        pybedtools.BedTool(win_path).intersect(pybedtools.BedTool(bl_path), u=True).saveas(hits_path)
        mask = np.zeros(len(starts), dtype=bool)
        with open(hits_path) as fh:
            hit_rows = [int(line.split("\t")[3]) for line in fh]
    mask[hit_rows] = True
    return mask


def _keep_strongest(chrom: np.ndarray, centre: np.ndarray, strength: np.ndarray, line: np.ndarray, min_distance: int) -> np.ndarray:
    """Greedy selection: the strongest peak is kept, every peak whose centre lies less than
    ``min_distance`` bp from a kept one is dropped, repeat. Ties go to the earlier line."""
    key = chrom.astype(np.int64) * (1 << 34) + centre  # chromosomes never come within reach
    by_pos = np.argsort(key, kind="stable")
    sorted_key = key[by_pos]
    lo = np.searchsorted(sorted_key, sorted_key - min_distance, side="right").tolist()
    hi = np.searchsorted(sorted_key, sorted_key + min_distance, side="left").tolist()
    rank = np.lexsort((line[by_pos], -strength[by_pos]))
    blocked = np.zeros(len(key), dtype=bool)
    keep_sorted = np.zeros(len(key), dtype=bool)
    for i in rank.tolist():
        if not blocked[i]:
            keep_sorted[i] = True
            blocked[lo[i] : hi[i]] = True
    keep = np.zeros(len(key), dtype=bool)
    keep[by_pos] = keep_sorted
    return keep


def _n_counts(fasta, chrom_names, lengths, chrom, starts, ends) -> np.ndarray:
    """Number of N/n bases in each window."""
    counts = np.zeros(len(starts), dtype=np.int64)
    order = np.lexsort((starts, chrom))
    for c in np.unique(chrom).tolist():
        rows = order[chrom[order] == c]
        seqs = iter_window_sequences(fasta, chrom_names[c], lengths[c], starts[rows].tolist(), ends[rows].tolist())
        counts[rows] = [seq.count("N") + seq.count("n") for seq in seqs]
    return counts


def make_summit_windows(peaks_path: str, fasta, opts: SummitWindowOptions, fa_out, bed_out=None, rejects: Rejects | None = None) -> dict:
    """Write summit-centred windows of ``peaks_path`` as labelled FASTA (and BED6).

    ``fasta`` is an open ``pysam.FastaFile``. Returns the counts for the run info; rejected
    lines are recorded in ``rejects``. Raises UserError when nothing could be written.
    """
    from enhancer_tools.genome.reference import chrom_sizes

    rejects = rejects if rejects is not None else Rejects()
    sizes = chrom_sizes(fasta)
    chrom_names = list(sizes)
    lengths_all = np.array(list(sizes.values()), dtype=np.int64)
    strength_col = STRENGTH_COLUMNS[opts.strongest_by] if opts.keep_strongest else None
    peaks = build_peak_table(peaks_path, sizes, W.ChromFilter(opts.chroms, opts.exclude_chroms), rejects,
                             opts.summit_col, strength_col)
    width = opts.width
    length = lengths_all[peaks.chrom]
    centre = np.where(peaks.offset == -1, peaks.start + (peaks.end - peaks.start) // 2, peaks.start + peaks.offset)
    ws, we, placed = W.place_windows(centre, width, length, opts.edge)
    past = peaks.end > length
    outside = ~past & (peaks.offset >= peaks.end - peaks.start)
    dropped = ~past & ~outside & ~placed
    for r in np.flatnonzero(past | outside | dropped).tolist():
        c = chrom_names[peaks.chrom[r]]
        if past[r]:
            rejects.add(int(peaks.line[r]), W.PEAK_PAST_END,
                        f"peak end {peaks.end[r]} is past the end of {c} (length {length[r]}): wrong genome build?")
        elif outside[r]:
            rejects.add(int(peaks.line[r]), W.SUMMIT_OUTSIDE,
                        f"summit {centre[r]} lies outside the peak (start {peaks.start[r]}, end {peaks.end[r]})")
        else:
            rejects.add(int(peaks.line[r]), W.edge_reject_reason(width, int(length[r])),
                        f"{width} bp window around {centre[r]} runs off {c} (length {length[r]})")
    rows = np.flatnonzero(placed & ~past & ~outside)
    rc = opts.strand_aware & (peaks.strand == 2)

    def reject_rows(mask: np.ndarray, reason: str, detail: str) -> None:
        nonlocal rows
        for r in rows[mask].tolist():
            rejects.add(int(peaks.line[r]), reason, detail)
        rows = rows[~mask]

    if opts.blacklist and len(rows):
        reject_rows(_blacklist_mask(chrom_names, peaks.chrom[rows], ws[rows], we[rows], opts.blacklist),
                    W.BLACKLISTED, "window overlaps the blacklist")
    if len(rows):
        order = np.lexsort((peaks.line[rows], rc[rows], we[rows], ws[rows], peaks.chrom[rows]))
        keys = np.stack([peaks.chrom[rows], ws[rows], we[rows], rc[rows]])[:, order]
        dup_sorted = np.r_[False, (keys[:, 1:] == keys[:, :-1]).all(axis=0)]
        dup = np.zeros(len(rows), dtype=bool)
        dup[order] = dup_sorted
        reject_rows(dup, W.DUPLICATE, "same window as an earlier line")
    max_n = opts.max_n_frac if opts.max_n_frac < 1 else None
    if opts.keep_strongest and len(rows):
        if max_n is not None:
            n_count = _n_counts(fasta, chrom_names, lengths_all, peaks.chrom[rows], ws[rows], we[rows])
            reject_rows(n_count > max_n * (we[rows] - ws[rows]), W.TOO_MANY_N, f"more than {max_n:g} of the window is N")
            max_n = None
        distance = opts.min_distance if opts.min_distance is not None else width
        keep = _keep_strongest(peaks.chrom[rows], centre[rows], peaks.strength[rows], peaks.line[rows], distance)
        reject_rows(~keep, W.WEAKER_NEARBY, f"a stronger peak less than {distance} bp away was kept")

    n_rejected = _write_windows(fasta, peaks, rows, ws, we, rc, chrom_names, lengths_all, opts, max_n, fa_out, bed_out, rejects)
    if n_rejected:
        rows = rows[~np.isin(peaks.line[rows], [line for line, (reason, _) in rejects.rows.items() if reason == W.TOO_MANY_N])]
    written = len(rows)
    counts = {
        "peaks_read": peaks.lines_read,
        "windows_written": written,
        "rejected": len(rejects.rows),
        "rejects_by_reason": rejects.counts(),
        "windows_clipped": int(((we - ws) < width)[rows].sum()) if opts.edge == "clip" else 0,
        "windows_shifted": int((ws != centre - width // 2)[rows].sum()) if opts.edge == "shift" else 0,
        "windows_reverse_complemented": int(rc[rows].sum()),
    }
    if written == 0:
        summary = ", ".join(f"{k} {v}" for k, v in counts["rejects_by_reason"].items())
        raise UserError(f"no windows written: all {peaks.lines_read} peaks were rejected ({summary})", peaks_path)
    return counts


def _repeated_names(names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True where a peak name cannot serve as an ID (empty, '.', or used more than once),
    and the distinct names."""
    unique, inverse, counts = np.unique(names, return_inverse=True, return_counts=True)
    return (counts[inverse.ravel()] > 1) | (names == b"") | (names == b"."), unique


def _window_ids(names: np.ndarray, repeated: np.ndarray, name_pool: np.ndarray, chrom: bytes,
                starts: np.ndarray, ends: np.ndarray, rc: np.ndarray) -> list[np.ndarray]:
    """Record IDs as column blocks: the peak name when unique in the file, else
    chrom:start-end (+ _rc; + _window should that equal some peak's name)."""
    ids = text_block(names)
    if (ids == ord(" ")).any():
        ids = np.where(ids == ord(" "), ord("_"), ids).astype(np.uint8)
    if not repeated.any():
        return [ids]
    n = len(names)
    texts = [f"{chrom.decode()}:{s}-{e}{'_rc' if r else ''}".encode() for s, e, r in
             zip(starts[repeated].tolist(), ends[repeated].tolist(), rc[repeated].tolist())]
    fb_arr = np.array(texts, dtype="S")
    clash = np.isin(fb_arr, name_pool)
    if clash.any():
        fb_arr = np.where(clash, np.strings.add(fb_arr, b"_window"), fb_arr)
    width = max(ids.shape[1], fb_arr.dtype.itemsize)
    out = np.zeros((n, width), dtype=np.uint8)
    out[~repeated, : ids.shape[1]] = ids[~repeated]
    out[repeated, : fb_arr.dtype.itemsize] = text_block(fb_arr)
    return [out]


def _write_windows(fasta, peaks: PeakTable, rows, ws, we, rc, chrom_names, lengths_all, opts, max_n, fa_out, bed_out, rejects) -> int:
    """Fetch, filter on N, transform and write the windows of ``rows`` (binary file handles);
    N-rich windows go to ``rejects`` and their number is returned."""
    if len(rows) == 0:
        return 0
    repeated, name_pool = _repeated_names(peaks.names)
    chrom_rank = np.full(len(chrom_names), len(chrom_names), dtype=np.int64)
    first_rows = np.unique(peaks.chrom, return_index=True)
    chrom_rank[first_rows[0]] = np.argsort(np.argsort(first_rows[1]))
    order = rows[np.lexsort((peaks.line[rows], ws[rows], chrom_rank[peaks.chrom[rows]]))]
    width = opts.width
    n_rejected = 0
    strand_char = np.array([ord("."), ord("+"), ord("+")], dtype=np.uint8)
    chroms_sorted = peaks.chrom[order]
    bounds = np.flatnonzero(np.r_[True, chroms_sorted[1:] != chroms_sorted[:-1], True])
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        group = order[a:b]
        ci = int(peaks.chrom[group[0]])
        chrom, length = chrom_names[ci], int(lengths_all[ci])
        chrom_b = chrom.encode()
        head = f" label={opts.label} region={chrom}:".encode()
        starts, ends = ws[group], we[group]
        reach = np.maximum.accumulate(ends)
        j = 0
        while j < len(group):
            lo = int(starts[j])
            hi = min(length, max(int(ends[j]), lo + _BLOCK))
            k = max(j + 1, min(int(np.searchsorted(reach, hi, side="right")), j + _WINDOWS_PER_BLOCK))
            hi = int(reach[k - 1])
            block = np.frombuffer(fasta.fetch(chrom, lo, hi).encode("ascii"), dtype=np.uint8)
            sel, s_blk, e_blk = group[j:k], starts[j:k], ends[j:k]
            j = k
            seqs, n_count = sequence_block(block, s_blk - lo, e_blk - s_blk, width, rc[sel], opts.upper, max_n is not None)
            if max_n is not None:
                good = n_count <= max_n * (e_blk - s_blk)
                if not good.all():
                    for r in sel[~good].tolist():
                        rejects.add(int(peaks.line[r]), W.TOO_MANY_N, f"more than {max_n:g} of the window is N")
                    n_rejected += int((~good).sum())
                    sel, s_blk, e_blk, seqs = sel[good], s_blk[good], e_blk[good], seqs[good]
            if len(sel) == 0:
                continue
            is_rc = rc[sel]
            n = len(sel)
            strands = np.where(is_rc, ord("-"), strand_char[peaks.strand[sel]]).astype(np.uint8)[:, None]
            ids = _window_ids(peaks.names[sel], repeated[sel], name_pool, chrom_b, s_blk, e_blk, is_rc)
            s_txt, e_txt = digits_block(s_blk), digits_block(e_blk)
            fa_out.write(assemble([const_block(b">", n), *ids, const_block(head, n), s_txt, const_block(b"-", n), e_txt,
                                    const_block(b"(", n), strands, const_block(b")\n", n), seqs, const_block(b"\n", n)]))
            if bed_out is not None:
                bed_out.write(assemble([const_block(chrom_b + b"\t", n), s_txt, const_block(b"\t", n), e_txt,
                                         const_block(b"\t", n), *ids, const_block(b"\t0\t", n), strands,
                                         const_block(b"\n", n)]))
    return n_rejected
