"""Reverse-complement-aware de-duplication of labelled sequence files.

Records with the same canonical key (``canonical.py``) form a duplicate group; the first
occurrence (input order: files in the order given, records in file order) is kept, written
with its own header and case. Each later member is an exact duplicate (same upper-cased
sequence as the first) or a reverse-complement duplicate, in the same file or another one.
A group whose members carry different labels is a label conflict, resolved by a policy.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from enhancer_tools.dataset import CONFLICT_POLICIES
from enhancer_tools.dataset.canonical import PALINDROME
from enhancer_tools.dataset.scan import iter_batches, scan_file
from enhancer_tools.errors import UserError

log = logging.getLogger(__name__)


@dataclass
class Inputs:
    """The scanned input files, their records concatenated in input order."""

    paths: list
    default_labels: list
    records: list
    file_of: np.ndarray
    offsets: np.ndarray
    label: np.ndarray
    labels: list

    @property
    def n(self) -> int:
        return len(self.file_of)

    def column(self, name: str) -> np.ndarray:
        """A per-record array (``Records`` field ``name``) over all inputs; not a copy when
        there is one input (these arrays are tens of MB at study scale)."""
        arrays = [getattr(r, name) for r in self.records]
        return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

    def where(self, i: int) -> tuple[str, int]:
        """(path, header line) of global record ``i``."""
        f = int(self.file_of[i])
        return self.paths[f], self.records[f].line_of(int(i - self.offsets[f]))


@dataclass
class DedupPlan:
    """Which records to keep, the duplicate groups, and the counts for the report."""

    keep: np.ndarray
    group_of: np.ndarray
    relation: np.ndarray
    counts: dict = field(default_factory=dict)


# relation of a record to its group's first occurrence
UNIQUE, FIRST, EXACT, REVCOMP, NEAR = 0, 1, 2, 3, 4
RELATION_NAMES = {FIRST: "first", EXACT: "exact", REVCOMP: "reverse_complement", NEAR: "near_duplicate"}


def scan_inputs(paths: list, default_labels: list, jobs: int = 1, with_stats: bool = False, on_part=None) -> Inputs:
    """Scan every input file and merge the per-file label tables into one (``on_part``: see
    ``scan.scan_file``)."""
    records = [scan_file(p, lab, jobs, with_stats, on_part) for p, lab in zip(paths, default_labels)]
    _return_freed_memory()
    sizes = np.array([len(r) for r in records], np.int64)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    table: dict = {}
    parts = []
    for r in records:
        remap = np.array([table.setdefault(x, len(table)) for x in r.labels] + [-1], np.int32)
        parts.append(remap[r.label])
    label = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    file_of = np.repeat(np.arange(len(paths), dtype=np.int32), sizes)
    return Inputs(list(paths), list(default_labels), records, file_of, offsets, label, list(table))


def _return_freed_memory() -> None:
    """Give the heap memory freed by the scan (tens of MB of per-part arrays) back to the
    system (glibc's malloc_trim), so that it does not count twice in the peak; a no-op elsewhere."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def first_of_groups(keys: np.ndarray) -> np.ndarray:
    """For each row of a (n, 2) key array, the index of the first row with the same key."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(keys[:, 0], kind="stable")
    same = keys[order, 0]
    same = same[1:] == same[:-1]
    if same.any():
        low = keys[order, 1]
        if (same & (low[1:] != low[:-1])).any():  # rare: equal high halves only
            order = np.lexsort((keys[:, 1], keys[:, 0]))
            same = (keys[order[1:]] == keys[order[:-1]]).all(axis=1)
        del low
    starts = np.concatenate(([True], ~same))
    del same
    first = order[starts]  # stable sort: the smallest index of each group
    out = np.empty(n, np.int64)
    out[order] = first[np.cumsum(starts) - 1]
    return out


def check_unique_ids(inputs: Inputs) -> None:
    """Raise UserError at the first record whose id appeared before (in any input)."""
    ids = inputs.column("id_key")
    high = np.sort(ids[:, 0])
    if not (high[1:] == high[:-1]).any():  # the usual case, decided in a fraction of the memory
        return
    del high
    first = first_of_groups(ids)
    repeated = np.flatnonzero(first != np.arange(len(first)))
    if len(repeated):
        i = int(repeated.min())
        path, line = inputs.where(i)
        fpath, fline = inputs.where(int(first[i]))
        raise UserError(f"duplicate record id (first seen at {fpath}:{fline}); ids must be unique across the inputs", path, line)


def plan_dedup(inputs: Inputs, conflicts: str = "drop") -> DedupPlan:
    """Group records by canonical key, classify duplicates, and resolve label conflicts."""
    keys, orient = inputs.column("keys"), inputs.column("orient")
    n = inputs.n
    first = first_of_groups(keys)
    dup = first != np.arange(n)
    relation = np.full(n, UNIQUE, np.uint8)
    relation[first[dup]] = FIRST
    same_strand = (orient == orient[first]) | (orient == PALINDROME)
    relation[dup & same_strand] = EXACT
    relation[dup & ~same_strand] = REVCOMP
    across = inputs.file_of != inputs.file_of[first]
    keep = ~dup
    counts = {
        "records_in": n,
        "duplicate_groups": int((relation == FIRST).sum()),
        "exact_duplicates_within_file": int((dup & same_strand & ~across).sum()),
        "exact_duplicates_across_files": int((dup & same_strand & across).sum()),
        "revcomp_duplicates_within_file": int((dup & ~same_strand & ~across).sum()),
        "revcomp_duplicates_across_files": int((dup & ~same_strand & across).sum()),
    }
    counts.update(resolve_conflicts(first, inputs.label, keep, conflicts))
    return DedupPlan(keep, first, relation, counts)


def resolve_conflicts(group_of: np.ndarray, label: np.ndarray, keep: np.ndarray, policy: str) -> dict:
    """Apply the label-conflict policy to groups (``group_of`` = first member's index) whose
    members carry different labels; updates ``keep`` in place and returns counts.

    drop: no member is kept. keep-first: the first member is kept. majority: the first member
    with the strictly most frequent label is kept; a tie drops the group.
    """
    if policy not in CONFLICT_POLICIES:
        raise UserError(f"unknown conflict policy {policy!r}; choose one of {', '.join(CONFLICT_POLICIES)}")
    differs = label != label[group_of]
    conflicted = np.unique(group_of[differs])
    dropped = 0
    if len(conflicted):
        in_conflict = np.isin(group_of, conflicted)
        if policy == "drop":
            dropped = int(in_conflict.sum())
            keep[in_conflict] = False
        elif policy == "majority":
            rows = np.flatnonzero(in_conflict)
            by_group: dict = {}
            for i in rows:
                by_group.setdefault(int(group_of[i]), []).append(int(i))
            for head, rows_g in by_group.items():
                votes = Counter(int(label[i]) for i in rows_g).most_common(2)
                keep[head] = False
                if len(votes) > 1 and votes[0][1] == votes[1][1]:
                    dropped += len(rows_g)
                    continue
                winner = next(i for i in rows_g if label[i] == votes[0][0])
                keep[winner] = True
    return {"label_conflict_groups": int(len(conflicted)), "records_dropped_for_conflicts": dropped}


def write_kept(inputs: Inputs, keep: np.ndarray, out) -> int:
    """Write the kept records in input order to the binary file object ``out``; returns the
    number written. Headers and case are the input's; a record whose label came from
    ``--label-for`` gets ``label=X`` appended to its header."""
    written = 0
    for f, path in enumerate(inputs.paths):
        rec = inputs.records[f]
        lo = int(inputs.offsets[f])
        mask = keep[lo : lo + len(rec)]
        written += int(mask.sum())
        if rec.start is not None and inputs.default_labels[f] is None:
            _copy_ranges(path, rec.start, rec.end, mask, out)
            continue
        suffix = f" label={inputs.default_labels[f]}".encode() if inputs.default_labels[f] is not None else b""
        pos = 0
        for batch in iter_batches(path, inputs.default_labels[f], inputs.records[f].start is not None):
            chunk = []
            for j, (h, s) in enumerate(zip(batch.headers, batch.seqs)):
                if mask[pos + j]:
                    if suffix and b" label=" not in h:
                        h += suffix
                    chunk += (b">", h, b"\n", s, b"\n")
            pos += len(batch.seqs)
            out.write(b"".join(chunk))
    return written


class FirstOccurrenceWriter:
    """Writes, while the inputs are still being scanned, every record whose key has not been
    seen before it: the output when no label conflict changes the plan (checked afterwards by
    ``matches``), so writing overlaps scanning instead of following it.

    Earlier parts are remembered by the high 64 bits of their keys only (16 MB for 2 M keys);
    a rare collision there, a label conflict, or a part without byte ranges makes ``matches``
    false, and the caller writes the output again from the plan.
    """

    def __init__(self, out) -> None:
        self.out = out
        self.seen = np.zeros(0, np.uint64)
        self.masks: list[np.ndarray] = []
        self.valid = True

    def add_part(self, path: str, part: dict | None) -> None:
        """``scan_file``'s ``on_part`` callback."""
        if part is None or part["starts"] is None or not self.valid:
            self.valid = False
            return
        keys = part["keys"]
        high = keys[:, 0]
        keep = first_of_groups(keys) == np.arange(len(keys))
        if len(self.seen):
            at = np.minimum(np.searchsorted(self.seen, high), len(self.seen) - 1)
            keep &= self.seen[at] != high
        self.masks.append(keep)
        self.seen = np.sort(np.concatenate((self.seen, high[keep])), kind="stable")  # merges two sorted runs
        _copy_ranges(path, part["starts"], part["ends"], keep, self.out)

    def finish(self) -> None:
        """Free the seen keys (the scan is over; the writer thread may still be writing)."""
        self.seen = np.zeros(0, np.uint64)

    def matches(self, keep: np.ndarray) -> bool:
        """Whether what was written is exactly the records that ``keep`` marks."""
        return self.valid and bool(self.masks) and np.array_equal(np.concatenate(self.masks), keep)


def _copy_ranges(path, starts: np.ndarray, ends: np.ndarray, mask: np.ndarray, out, window: int = 4 << 20) -> None:
    """Copy the records [starts[i], ends[i]) of ``path`` where ``mask`` is true to ``out``. The
    records tile the file (ends[i] == starts[i + 1], as the fast reader's always do), so each
    run of kept records is one byte range.

    The source is read in windows of about ``window`` bytes and the wanted pieces of each
    are written at once: with ``out`` a ``BackgroundWriter`` the kernel's copy into the output
    overlaps the next read (2-3x faster than one copy_file_range call per run of kept records).
    """
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1  # runs of kept records
    if not len(first):
        return
    run_starts, run_ends = starts[first], ends[last]
    pieces = (run_ends - run_starts + window - 1) // window  # long runs are cut into window-sized pieces
    if (pieces > 1).any():
        k = np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        run_starts = np.repeat(run_starts, pieces) + k * window
        run_ends = np.minimum(run_starts + window, np.repeat(run_ends, pieces))
    # each read takes the pieces that start within ``window`` bytes of its first one
    bounds = np.searchsorted(run_starts, np.arange(run_starts[0], run_ends[-1], window), side="left")
    bounds = np.unique(np.concatenate((bounds, [len(run_starts)])))
    with open(path, "rb", buffering=0) as src:
        for i, j in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            a_s, b_s = run_starts[i:j].tolist(), run_ends[i:j].tolist()
            lo, hi = a_s[0], b_s[-1]
            data = os.pread(src.fileno(), hi - lo, lo)
            if len(data) != hi - lo:
                raise UserError("file changed while it was being read", path)
            view = memoryview(data)
            out.write(b"".join([view[a - lo : b - lo] for a, b in zip(a_s, b_s)]))


def iter_sequences(inputs: Inputs, wanted: np.ndarray):
    """Yield (global index, header id, sequence) of the records where ``wanted`` is true."""
    for f, path in enumerate(inputs.paths):
        pos = int(inputs.offsets[f])
        for batch in iter_batches(path, inputs.default_labels[f], inputs.records[f].start is not None):
            for j in np.flatnonzero(wanted[pos : pos + len(batch.seqs)]).tolist():
                yield pos + j, batch.ids[j], batch.seqs[j]
            pos += len(batch.seqs)


def collapse_near_duplicates(inputs: Inputs, plan: DedupPlan, identity: float, policy: str, threads: int = 1) -> None:
    """Cluster the kept records with vsearch at ``identity`` (both strands) and keep the first
    record (input order) of each cluster; label conflicts inside a cluster follow ``policy``."""
    from enhancer_tools.dataset.near_duplicates import cluster

    centroid = cluster(((i, s) for i, _, s in iter_sequences(inputs, plan.keep)), identity, threads)
    members: dict[int, list[int]] = {}
    for i, c in centroid.items():
        members.setdefault(c, []).append(i)
    near_of = np.arange(inputs.n)
    for group in members.values():
        if len(group) > 1:
            head = min(group)
            for i in group:
                if i != head:
                    near_of[i] = head
                    plan.keep[i] = False
                    plan.relation[i] = NEAR
                    plan.group_of[i] = head
            if plan.relation[head] == UNIQUE:
                plan.relation[head] = FIRST
    near = resolve_conflicts(near_of, inputs.label, plan.keep, policy)
    plan.counts["near_duplicates"] = int((plan.relation == NEAR).sum())
    plan.counts["near_label_conflict_groups"] = near["label_conflict_groups"]
    plan.counts["records_dropped_for_conflicts"] += near["records_dropped_for_conflicts"]


def write_clusters(inputs: Inputs, plan: DedupPlan, fh) -> int:
    """Write one TSV row per member of every duplicate group; returns the number of groups."""
    in_group = plan.relation != UNIQUE
    ids = {i: rid.decode() for i, rid, _ in iter_sequences(inputs, in_group)}
    fh.write("group\tid\tfile\tline\trelation\tlabel\tkept\n")
    for i in sorted(ids, key=lambda i: (int(plan.group_of[i]), i)):
        path, line = inputs.where(i)
        lab = int(inputs.label[i])
        fh.write(f"{ids[int(plan.group_of[i])]}\t{ids[i]}\t{path}\t{line}\t{RELATION_NAMES[int(plan.relation[i])]}\t"
                 f"{inputs.labels[lab] if lab >= 0 else ''}\t{'yes' if plan.keep[i] else 'no'}\n")
    return int((plan.relation == FIRST).sum())
