"""Write the ToolShed metadata: one `.shed.yml` per tool repository (tools/<tool>/) and the suite
repository (suites/suite_enhancer_tools/: `.shed.yml` + repository_dependencies.xml), following
tools-iuc. Rerun after adding a tool; tests/test_galaxy_wrapper_layout.py checks the files are
current (`python scripts/write-shed-yml.py --check`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWNER = "enhancer-tools"
HOMEPAGE = "https://github.com/enhancer-tools/enhancer-tools"
SUITE = "suite_enhancer_tools"
# ToolShed categories per tool (the rest get the default pair)
CATEGORIES = {
    "bed-summit-window": ["Sequence Analysis", "Epigenetics"],
    "background-windows": ["Sequence Analysis", "Epigenetics"],
    "fasta-rc-dedup": ["Sequence Analysis", "Fasta Manipulation"],
    "dataset-split": ["Sequence Analysis", "Machine Learning"],
    "report": ["Machine Learning", "Visualization"],
}
DEFAULT_CATEGORIES = ["Machine Learning", "Sequence Analysis"]
LONG = ("Part of enhancer-tools, from enhancer peak calls to a DNABERT-2 enhancer classifier: summit-centred "
        "windows, reverse-complement-aware de-duplication, leakage-free splits, a BPE tokenizer, DNABERT-2 "
        "fine-tuning (no trust_remote_code), a CNN and a k-mer baseline, scoring, interpretation, variant effects "
        "and a MultiQC report (King, Atlasi, Rafiee 2025).")


def tools() -> list[tuple[str, str, str, str]]:
    """(folder, tool id, tool name, description) of every wrapper under tools/."""
    out = []
    for xml in sorted(ROOT.glob("tools/*/*.xml")):
        if xml.name == "macros.xml":
            continue
        text = xml.read_text()
        tool = re.search(r'<tool id="([^"]+)" name="([^"]+)"', text)
        desc = re.search(r"<description>(.*?)</description>", text, re.S)
        out.append((xml.parent.name, tool.group(1), tool.group(2), " ".join(desc.group(1).split()) if desc else ""))
    return out


def _yaml_list(items: list[str]) -> str:
    return "".join(f"- {item}\n" for item in items)


def tool_shed_yml(folder: str, tool_id: str, name: str, description: str) -> str:
    return (f"name: {tool_id}\nowner: {OWNER}\n"
            f"description: \"enhancer-tools: {name} {description}\"\n"
            f"homepage_url: {HOMEPAGE}\n"
            f"long_description: |\n  {LONG}\n"
            f"remote_repository_url: {HOMEPAGE}/tree/main/tools/{folder}\n"
            f"type: unrestricted\ncategories:\n{_yaml_list(CATEGORIES.get(folder, DEFAULT_CATEGORIES))}")


def suite_files(entries) -> dict[str, str]:
    shed = (f"name: {SUITE}\nowner: {OWNER}\n"
            "description: \"enhancer-tools: from enhancer peak calls to a DNABERT-2 enhancer classifier\"\n"
            f"homepage_url: {HOMEPAGE}\n"
            f"long_description: |\n  {LONG} This suite installs every tool repository of enhancer-tools.\n"
            f"remote_repository_url: {HOMEPAGE}/tree/main/suites/{SUITE}\n"
            "type: repository_suite_definition\n"
            f"categories:\n{_yaml_list(['Machine Learning', 'Sequence Analysis', 'Epigenetics'])}")
    deps = "".join(f'    <repository owner="{OWNER}" name="{tool_id}"/>\n' for _, tool_id, _, _ in entries)
    repo_deps = ('<?xml version="1.0" ?>\n<repositories description="Every tool of enhancer-tools">\n'
                 f"{deps}</repositories>\n")
    return {".shed.yml": shed, "repository_dependencies.xml": repo_deps}


def expected() -> dict[Path, str]:
    """Every metadata file and its contents."""
    entries = tools()
    files = {ROOT / "tools" / folder / ".shed.yml": tool_shed_yml(folder, tool_id, name, desc)
             for folder, tool_id, name, desc in entries}
    files.update({ROOT / "suites" / SUITE / name: text for name, text in suite_files(entries).items()})
    return files


def main(argv: list[str]) -> int:
    stale = [p for p, text in expected().items() if not p.exists() or p.read_text() != text]
    if "--check" in argv:
        for p in stale:
            print(f"stale or missing: {p.relative_to(ROOT)} (run python scripts/write-shed-yml.py)", file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(expected()[p])
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
