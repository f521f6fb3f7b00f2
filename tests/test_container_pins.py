"""The container's pins stay inside setup.cfg's ranges and in step with each other and with
the Galaxy wrappers' macros (the image cannot be built on the CI machine, so this is the check)."""

import configparser
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from enhancer_tools import __version__

ROOT = Path(__file__).resolve().parents[1]
CONTAINER = ROOT / "container"
# conda-forge/bioconda names of the PyPI packages whose names differ
CONDA_TO_PYPI = {"pytorch": "torch", "python-xxhash": "xxhash", "pybigwig": "pybigwig"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _setup_requirements() -> dict[str, Requirement]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    lines = cfg["options"]["install_requires"].splitlines()
    lines += cfg["options.extras_require"]["bigwig"].splitlines()
    reqs = [Requirement(line) for line in lines if line.strip()]
    return {_norm(r.name): r for r in reqs}


def _container_pins() -> dict[str, str]:
    pins = {}
    for line in (CONTAINER / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def _macro_tokens() -> dict[str, str]:
    root = ET.parse(ROOT / "tools" / "macros.xml").getroot()
    return {t.get("name"): (t.text or "").strip() for t in root.iter("token")}


def _dockerfile() -> str:
    return (CONTAINER / "Dockerfile").read_text()


def test_every_dependency_is_pinned_inside_its_setup_cfg_range():
    pins = _container_pins()
    for name, req in _setup_requirements().items():
        assert name in pins, f"{name} from setup.cfg is not pinned in container/requirements.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"container pin {name}=={pins[name]} lies outside setup.cfg's {req.specifier}")
    extra = set(pins) - set(_setup_requirements())
    assert not extra, f"pins for packages setup.cfg does not require: {sorted(extra)}"


def test_environment_yml_has_the_same_pins():
    env = yaml.safe_load((CONTAINER / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            conda[_norm(CONDA_TO_PYPI.get(name, name))] = version
    for name, version in _container_pins().items():
        assert conda.get(name) == version, f"environment.yml {name}={conda.get(name)} != container {version}"
    tokens = _macro_tokens()
    assert conda["bedtools"] == tokens["@BEDTOOLS_VERSION@"]
    assert conda["vsearch"] == tokens["@VSEARCH_VERSION@"]


def test_dockerfile_base_and_tools_match_the_pins():
    text = _dockerfile()
    base = re.search(r"^FROM pytorch/pytorch:(\S+?)-cuda\S+-runtime$", text, re.M)
    assert base, "the Dockerfile must build FROM an official pytorch/pytorch ...-runtime image"
    assert base.group(1) == _container_pins()["torch"]
    tokens = _macro_tokens()
    for tool, token in (("BEDTOOLS", "@BEDTOOLS_VERSION@"), ("VSEARCH", "@VSEARCH_VERSION@")):
        arg = re.search(rf"^ARG {tool}_VERSION=(\S+)$", text, re.M)
        assert arg and arg.group(1) == tokens[token], f"Dockerfile {tool}_VERSION != macros.xml {token}"
    assert re.search(r"^USER (?!root)\S+$", text, re.M), "the image must run as a non-root user"


@pytest.mark.parametrize("where", ["macros", "dockerfile"])
def test_versions_and_image_name_follow_the_package(where):
    tokens = _macro_tokens()
    if where == "macros":
        assert tokens["@TOOL_VERSION@"] == __version__
        assert tokens["@VERSION_SUFFIX@"].isdigit()
    else:
        text = _dockerfile()
        tag = re.search(r"docker build -f container/Dockerfile -t (\S+):(\S+) \.", text)
        assert tag and tag.groups() == (tokens["@CONTAINER_IMAGE@"], __version__)
        label = re.search(r'org\.opencontainers\.image\.version="([^"]+)"', text)
        assert label and label.group(1) == __version__
