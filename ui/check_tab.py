"""The **Check a clip** tab and the `/detect` endpoint: is the studio's watermark in this audio?"""

from __future__ import annotations

import gradio as gr

from inference.contract.errors import InvalidRequest

from .errors import raise_readable

INTRO = (
    "Every take this studio makes carries an inaudible watermark (Resemble AI's Perth). Upload or record any "
    "clip to check for it: MP3 re-encoding, resampling and a little noise leave it in place."
)
DETECT_DESCRIPTION = (
    "Check a clip for the watermark every take of this studio carries. Parameter: `audio` (a file: wav, flac, "
    "mp3, ogg/opus, m4a, webm; at least 0.5 s). Returns `{\"marked\": bool, \"confidence\": float}` (confidence: "
    "the mean per-frame mark probability, 0 to 1; marked when at least 0.5). Bad files give a readable error."
)


def detect_clip(path: str | None) -> dict:
    """{"marked", "confidence"} for an uploaded file; raises a readable gr.Error for a bad one."""
    try:
        if not path:
            raise InvalidRequest("Upload or record a clip first, then check it.")
        from inference.audio.watermark import detect

        return detect(path)
    except Exception as err:  # noqa: BLE001 - every failure becomes a message
        raise_readable(err)


def verdict(found: dict) -> str:
    if found["marked"]:
        return (f"✅ **Watermark found** (confidence {found['confidence']:.2f}). This clip was made by an AI voice "
                "generator that uses the Perth watermark, like this studio.")
    return (f"**No watermark found** (confidence {found['confidence']:.2f}). Takes from this studio carry one "
            "unless its operator turned it off; heavy editing can also remove it, so this does not prove the "
            "clip is a real recording.")


def build_check_tab() -> None:
    """The tab's components and wiring, inside the page's Blocks, and the `/detect` endpoint."""
    with gr.Tab("Check a clip", id="check"):
        gr.Markdown(INTRO)
        clip = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Clip to check",
                        elem_id="hvs-check-clip", elem_classes="hvs-audio",
                        buttons=["download"])  # never "share": it would publish the visitor's clip
        button = gr.Button("Check for the watermark", variant="primary", elem_id="hvs-check")
        result = gr.Markdown(elem_id="hvs-check-result")
    button.click(lambda path: verdict(detect_clip(path)), clip, result, api_visibility="private")
    with gr.Column(visible=False):  # the API takes a plain file, not the page's audio component
        audio = gr.File(label="audio", type="filepath")
        found = gr.JSON(label="result")
        trigger = gr.Button()

    def detect(audio: str) -> dict:
        return detect_clip(audio)

    trigger.click(detect, audio, found, api_name="detect", api_description=DETECT_DESCRIPTION)
