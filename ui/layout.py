"""The studio page: assembles the tabs. Each tab is its own module in ui/ with a `build_..._tab` function;
this file only puts them together, with the header and footer every tab shares. No torch here."""

from __future__ import annotations

import gradio as gr

from studio.service import Studio

from . import voice_tab
from .api import wire_api
from .check_tab import build_check_tab
from .dialogue_api import wire_dialogue_api
from .dialogue_tab import build_dialogue_tab
from .page_js import PAGE_JS
from .recipe_api import wire_revise_api
from .style import CSS  # noqa: F401 - app.py passes it to launch()
from .train_tab import build_train_tab

TITLE = "Higgs Voice Studio"
NOTICE = ("**Responsible use:** clone only voices you have the right to use (yours, or a speaker who agreed); "
          "never to mislead listeners. Takes are made by AI.")


def build_ui(studio: Studio, *, browser_secret: str | None = None, delete_cache: tuple[int, int] = (1800, 3600),
             training=None) -> gr.Blocks:
    """The whole page. `studio` carries the engine and helpers; nothing per visitor is kept outside the page."""
    engine_status = studio.status()
    with gr.Blocks(title=TITLE, delete_cache=delete_cache, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\nClone a voice from a few seconds of speech with Boson AI's **Higgs Audio V2**.",
                    elem_id="hvs-intro")
        if studio.is_noise:
            gr.Markdown(f"⚠️ Test model **{studio.model_id}** (random weights): takes are noise, not speech.",
                        elem_id="hvs-noise")
        gr.Markdown(NOTICE, elem_id="hvs-notice")

        with gr.Tab("Voice"):
            voice = voice_tab.build_voice_tab(demo, studio, browser_secret=browser_secret)
        build_dialogue_tab(studio, voice.voices.library)  # a gr.Tab of its own
        build_check_tab()  # "Check a clip": is the watermark in it?
        if training is not None:  # studio.training.VoiceTraining
            build_train_tab(training, quick=studio.is_noise)

        demo.load(None, js=PAGE_JS)  # accessibility and focus, in the browser (ui/page_js.py)
        wire_api(studio)
        wire_dialogue_api(studio)
        wire_revise_api(studio)
        gr.Markdown(f"Model `{engine_status['model']}` on {engine_status['device']} ({engine_status['dtype']}). "
                    "Use the studio from code: the [API panel](?view=api) (endpoints `/synthesize`, "
                    "`/synthesize_stream`, `/synthesize_checked`, `/dialogue`, `/detect`; a take's recipe: "
                    "`/synthesize_recipe`, `/dialogue_recipe`, `/revise`) or the "
                    "OpenAI-compatible `/v1/audio/speech` ([its reference](docs)).", elem_id="hvs-footer")
    return demo
