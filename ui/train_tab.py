"""The **Train** tab (*Train a voice*): recordings -> clips and transcripts to correct -> consent -> training with a live
loss curve, Stop and resume -> the voice saved in the trained-voices folder. The run itself is the studio's
(studio/training.py): one at a time, shown to whoever opens the tab."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pandas as pd

from inference.training.card import consent_statement
from inference.training.options import TrainOptions
from studio.training import POLICY, RunState, VoiceTraining

from .errors import problem_line

INTRO = ("### Train a voice\nLearn a voice from **minutes** of recordings of one speaker (at least one minute; 2-30 minutes is "
         "good). The recordings are cut at pauses into 3-15 s clips and transcribed; correct the words, confirm "
         "consent, and train. The best adapter by held-out score is kept as a voice. See docs/training.md.")
ACTIVE = ("training", "paused")


def build_train_tab(training: VoiceTraining, quick: bool = False) -> None:
    """The tab inside the page's Blocks. `quick`: the noise model's short default run."""
    with gr.Tab("Train", id="train"):  # short: four tabs fit a 390 px phone; not "…voice" (the Voice tab)
        gr.Markdown(f"{INTRO}\n\n**GPU sharing:** {POLICY}", elem_id="hvs-train-intro")
        if training.refusal:
            gr.Markdown(f"⚠️ {training.refusal}", elem_id="hvs-train-refused")
            return
        c = _layout(quick)
    _wire(training, c)


def _layout(quick: bool) -> SimpleNamespace:
    """The recordings, the clips to correct, consent, the run's controls and what it shows."""
    c = SimpleNamespace()
    c.name = gr.Textbox(label="Voice name", placeholder="e.g. ada", max_length=60, elem_id="hvs-train-name")
    with gr.Row():
        c.files = gr.File(file_count="multiple", type="filepath", label="Recordings (or a dataset's files)",
                          elem_id="hvs-train-files")
        c.mic = gr.Audio(sources=["microphone"], type="filepath", label="Or record here", elem_id="hvs-train-mic",
                         buttons=["download"])  # never "share": it would publish the speaker's recording
    c.cut = gr.Button("1. Cut into clips and transcribe", elem_id="hvs-train-cut")
    c.table = gr.Dataframe(headers=["clip", "seconds", "transcription"], datatype=["str", "number", "str"],
                           type="array", interactive=True, column_count=(3, "fixed"), label="Clips: correct the words",
                           elem_id="hvs-train-table")
    c.notes = gr.Markdown(elem_id="hvs-train-notes")
    c.speaker = gr.Textbox(label="2. Whose voice is it?", max_length=80, elem_id="hvs-train-speaker")
    c.consent = gr.Checkbox(label=consent_statement("the person named above"), elem_id="hvs-train-consent")
    with gr.Row():
        c.steps = gr.Slider(10, 3000, value=30 if quick else 300, step=10, label="Steps")
        c.resume = gr.Checkbox(label="Resume from the last checkpoint")
    with gr.Row():
        c.train = gr.Button("3. Train", variant="primary", elem_id="hvs-train-start")
        c.stop = gr.Button("Stop", variant="stop", elem_id="hvs-train-stop")
    c.status = gr.Markdown(elem_id="hvs-train-status")
    c.plot = gr.LinePlot(x="step", y="loss", color="curve", label="Loss per codebook", elem_id="hvs-train-plot")
    c.sentence = gr.Markdown(elem_id="hvs-train-sentence")
    with gr.Row():
        c.trained_take = gr.Audio(label="A held-out sentence in the new voice", interactive=False,
                                  buttons=["download"])
        c.base_take = gr.Audio(label="The same sentence in the base voice", interactive=False, buttons=["download"])
    c.timer = gr.Timer(1.0, active=False)
    return c


def _wire(training: VoiceTraining, c: SimpleNamespace) -> None:
    """Cut the recordings into clips, start or stop the run, and follow it once a second while it runs."""

    def cut_clips(paths: list[str] | None, recorded: str | None, voice: str):
        sources = [Path(p) for p in (paths or [])] + ([Path(recorded)] if recorded else [])
        try:
            if not sources:
                raise gr.Error("Upload or record the speaker first.")
            found = training.prepare(sources, voice)
        except Exception as err:  # noqa: BLE001 - said in the tab's notes line
            return gr.skip(), problem_line(err)
        rows = [[file, round(seconds, 1), text] for file, text, seconds in found.rows]
        said = [f"{len(rows)} clips, {found.minutes:.1f} minutes."] + [f"- left out: {line}" for line in found.refused]
        return rows, "\n".join(said + [f"- {line}" for line in found.notes])

    def start(voice: str, rows: list[list], who: str, agreed: bool, count: float, again: bool):
        try:
            if rows or not again:  # a resume after a restart has no table: its dataset is on disk
                training.save_transcripts(voice, [(str(row[0]), str(row[2] or "")) for row in rows or []])
            training.start(voice, who, agreed, TrainOptions(steps=int(count)), resume=again)
        except Exception as err:  # noqa: BLE001
            return problem_line(err), gr.Timer(active=False)
        return "Training…", gr.Timer(active=True)

    def watch():
        state = training.state
        heard = training.samples(state.name) if state.phase == "done" else None
        said = f"**Held-out sentence:** {heard[0]}" if heard else ""
        return *run_view(state), said, *(map(str, heard[1:]) if heard else (None, None))

    c.cut.click(cut_clips, [c.files, c.mic, c.name], [c.table, c.notes], api_visibility="private")
    c.train.click(start, [c.name, c.table, c.speaker, c.consent, c.steps, c.resume], [c.status, c.timer],
                  api_visibility="private")
    c.stop.click(training.stop, None, None, api_visibility="private")
    c.timer.tick(watch, None, [c.status, c.plot, c.timer, c.sentence, c.trained_take, c.base_take],
                 api_visibility="private")


def run_view(state: RunState):
    """The run as the tab shows it: a status line, the loss curves (train, held-out), and whether to keep polling."""
    curve = [("train", s, v) for s, v in state.losses] + [("held-out", s, v) for s, v in state.evals]
    minutes, seconds = divmod(int(state.seconds_left), 60)
    line = {"training": f"Step {state.step} of {state.steps}, about {minutes}:{seconds:02d} left.",
            "paused": f"Paused at step {state.step}: takes are being made, they go first."}.get(state.phase,
                                                                                                 state.message)
    return line, pd.DataFrame(curve, columns=["curve", "step", "loss"]), gr.Timer(active=state.phase in ACTIVE)
