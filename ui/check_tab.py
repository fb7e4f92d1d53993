"""The **Check a clip** tab and the `/detect` endpoint: is the studio's watermark in this audio, and does the
file label itself as AI-generated? Two signals, reported side by side."""

from __future__ import annotations

import gradio as gr

from inference.contract.errors import InvalidRequest

from .errors import problem_line, raise_readable

INTRO = (
    "Every take this studio makes carries an inaudible watermark (Resemble AI's Perth) and says in its file tags "
    "that it is AI-generated. Upload or record any clip to check both: MP3 re-encoding, resampling and a little "
    "noise leave the mark in place; tags are easy to strip."
)
DETECT_DESCRIPTION = (
    "Check a clip for the watermark every take of this studio carries, and read the file's own label. Parameter: "
    "`audio` (a file: wav, flac, mp3, ogg/opus, m4a, webm; at least 0.5 s). Returns `{\"marked\": bool, "
    "\"confidence\": float, \"label\": str | null, \"loudness_dbfs\": float, \"quiet\": bool}` (confidence: the "
    "mean per-frame mark probability, 0 to 1; marked when at least 0.5; label: the file's tags that say it is "
    "AI-generated; quiet: too quiet for the mark to be found reliably). Bad files give a readable error."
)


EXAMPLE_CLIP = "assets/voices/robot_en.wav"  # a shipped preset voice, in the repository


def _example_clip() -> dict:
    return {"path": EXAMPLE_CLIP, "orig_name": EXAMPLE_CLIP.rsplit("/", 1)[1], "meta": {"_type": "gradio.FileData"}}


def check_clip(path: str | None) -> dict:
    """Both signals for an uploaded file; raises StudioError (InvalidAudio, InvalidRequest) for a bad one."""
    if not path:
        raise InvalidRequest("Upload or record a clip first, then check it.")
    from inference.audio.provenance import check_clip as check

    return check(path)


def verdict(found: dict) -> str:
    if found["marked"]:
        mark = (f"✅ **Watermark found** (confidence {found['confidence']:.2f}). This clip was made by an AI voice "
                "generator that uses the Perth watermark, like this studio.")
    else:
        mark = (f"**No watermark found** (confidence {found['confidence']:.2f}). Takes from this studio carry one "
                "unless its operator turned it off; heavy editing can also remove it, so this does not prove the "
                "clip is a real recording.")
        if found.get("quiet"):
            mark += (f"\n\n🔈 **The clip is very quiet** ({found['loudness_dbfs']:.0f} dBFS): the watermark is "
                     "rarely found in audio this quiet, so *no watermark* says little here.")
    label = found.get("label")
    tags = (f"🏷️ **The file labels itself as AI-generated:** “{label}”." if label else
            "**The file carries no AI-generated label** in its tags (tags are easy to remove or never written).")
    return f"{mark}\n\n{tags}"


def build_check_tab() -> None:
    """The tab's components and wiring, inside the page's Blocks, and the `/detect` endpoint."""
    with gr.Tab("Check a clip", id="check") as tab:
        gr.Markdown(INTRO)
        clip = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Clip to check",
                        elem_id="hvs-check-clip", elem_classes="hvs-audio",
                        buttons=["download"])  # never "share": it would publish the visitor's clip
        button = gr.Button("Check the clip", variant="primary", elem_id="hvs-check")
        result = gr.Markdown(elem_id="hvs-check-result")

    def check_on_page(path: str | None) -> str:
        try:
            return verdict(check_clip(path))
        except Exception as err:  # noqa: BLE001 - said in the tab's status line, like the other tabs
            return problem_line(err)

    button.click(check_on_page, clip, result, api_visibility="private")
    with tab, gr.Column(visible=False):  # the API takes a plain file, not the page's audio component; inside the
        # tab, so that a tab after this one stays in the same row of tabs
        audio = gr.File(label="audio", type="filepath")
        audio.example_payload = audio.example_value = _example_clip  # the API panel's example: not Gradio's PDF
        found = gr.JSON(label="result")
        trigger = gr.Button()

    def detect(audio: str) -> dict:
        try:
            return check_clip(audio)
        except Exception as err:  # noqa: BLE001 - every failure becomes a message
            raise_readable(err)

    trigger.click(detect, audio, found, api_name="detect", api_description=DETECT_DESCRIPTION)
