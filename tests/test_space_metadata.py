"""The README front matter makes this repository a valid Gradio Space."""

import gradio
from huggingface_hub import SpaceCard

from tests.conftest import ROOT

HARDWARE = {"cpu-basic", "cpu-upgrade", "t4-small", "t4-medium", "l4x1", "l4x4", "a10g-small", "a10g-large",
            "a10g-largex2", "a10g-largex4", "a100-large", "zero-a10g"}
COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def test_front_matter_is_valid_space_metadata():
    card = SpaceCard.load(ROOT / "README.md")
    meta = card.data.to_dict()
    assert meta["sdk"] == "gradio"
    assert meta["sdk_version"] == gradio.__version__  # the Space runs the gradio we pin and test
    assert (ROOT / meta["app_file"]).is_file()
    assert meta["suggested_hardware"] in HARDWARE
    assert meta["colorFrom"] in COLORS and meta["colorTo"] in COLORS
    assert 0 < len(meta["short_description"]) <= 60
    assert meta["python_version"].startswith("3.")
    assert all("/" in repo for repo in meta["preload_from_hub"])
    assert card.text.lstrip().startswith("# Higgs Voice Studio")
