"""The repository is a Space as it stands: README.md begins with the metadata block Hugging Face reads.

The block is read with huggingface_hub's own parser (the one the Hub's tooling uses), and every value
that has to agree with something else in the repository is checked against that thing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from huggingface_hub.repocard import REGEX_YAML_BLOCK, SpaceCard, metadata_load

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


@pytest.fixture(scope="module")
def metadata() -> dict:
    data = metadata_load(README)
    assert data, "README.md does not begin with a `---` metadata block"
    return data


def pinned(package: str) -> str:
    found = re.search(rf"^{re.escape(package)}==(\S+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert found, f"requirements.txt pins no {package}"
    return found.group(1)


def test_the_block_comes_first_and_the_readme_renders_below_it():
    text = README.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    card = SpaceCard(text)
    assert card.data.title == "Studio"
    assert card.text.lstrip("\n").startswith("# Studio\n")


def test_gradio_sdk_at_the_pinned_version(metadata):
    assert metadata["sdk"] == "gradio"
    assert isinstance(metadata["sdk_version"], str)
    assert metadata["sdk_version"] == pinned("gradio")


def test_app_file_exists(metadata):
    assert (ROOT / metadata["app_file"]).is_file()
    assert metadata["app_file"] == "app.py"


def test_python_version_is_one_scripts_install_accepts(metadata):
    version = metadata["python_version"]
    assert isinstance(version, str), "quote python_version: YAML reads 3.10 as the number 3.1"
    install = (ROOT / "scripts" / "install").read_text()
    minimum = re.search(r"sys\.version_info < \((\d+), (\d+)\)", install)
    assert minimum, "scripts/install no longer states its minimum Python"
    assert tuple(int(part) for part in version.split(".")[:2]) >= (int(minimum[1]), int(minimum[2]))


def test_hugging_face_sign_in_is_on_and_asks_for_the_email(metadata):
    assert metadata["hf_oauth"] is True
    # openid and profile are always granted on Spaces; the address has to be asked for
    assert "email" in metadata.get("hf_oauth_scopes", [])


def test_the_card_fits_the_thumbnail(metadata):
    assert 0 < len(metadata["short_description"]) <= 60
    assert metadata["pinned"] is False
    assert metadata["suggested_hardware"]
    colors = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
    assert {metadata["colorFrom"], metadata["colorTo"]} <= colors


def test_quickstart_with_two_commands_still_comes_first_after_the_title():
    """README's promise: under the title, the first section is the Quickstart, and it is two commands."""
    text = README.read_text(encoding="utf-8")
    body = text[REGEX_YAML_BLOCK.search(text).end():]
    headings = re.findall(r"^(#{1,2}) (.+)$", body, re.MULTILINE)
    assert headings[:2] == [("#", "Studio"), ("##", "Quickstart")]
    quickstart = body.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", quickstart, re.DOTALL)
    assert block, "the Quickstart has no bash block"
    commands = [line.split("#", 1)[0].strip() for line in block[1].splitlines() if line.split("#", 1)[0].strip()]
    assert commands == ["scripts/run", "scripts/test"]
    # and CI runs README's test command, the second of the two
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in [line.strip() for line in ci]
