"""The take check on the page: the Advanced options (best of N, check on/off, parts by sentence) and the scores shown
beside a take."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from inference.contract.request import MAX_CANDIDATES, SynthesisRequest
from studio.best_of import Takes


@dataclass
class TakeOptions:
    candidates: gr.Slider
    check: gr.Checkbox
    by_sentence: gr.Checkbox


def build_take_options(checker) -> TakeOptions:
    """Inside the Advanced section. Without a take check on this server, both are shown but disabled."""
    available = checker is not None and checker.enabled
    spec = SynthesisRequest.model_fields["candidates"]
    candidates = gr.Slider(1, MAX_CANDIDATES, value=spec.default, step=1, interactive=available,
                           label="Best of N takes", elem_id="hvs-candidates",
                           info="Makes N takes with different seeds, checks each and keeps the best "
                                "(fewest word errors, then the closest voice). The N takes are generated "
                                "together, in one batch.")
    check = gr.Checkbox(available, interactive=available, elem_id="hvs-check-take",
                        label="Check the take: words heard (Whisper) and voice similarity to the reference")
    by_sentence = gr.Checkbox(False, elem_id="hvs-by-sentence",
                              label="One part per sentence, to edit the take sentence by sentence (Edit this take)")
    return TakeOptions(candidates, check, by_sentence)


def report_markdown(takes: Takes | None, shown: str = "") -> str:
    """"Take check: words 96% right, voice similarity 0.81", the words missed/added, and every candidate.
    A note whose reason is already in `shown` (the page's other notes) is not repeated."""
    score = takes.score if takes is not None else None
    if score is None:
        return ""
    lines = [f"**Take check:** {score.summary()}"]
    if score.missed:
        lines.append(f"missed: *{' '.join(score.missed)}*")
    if score.added:
        lines.append(f"added: *{' '.join(score.added)}*")
    lines += [f"ℹ️ {note}" for note in score.notes if note.partition(": ")[2].rstrip(".") not in shown]
    if len(takes.scores) > 1:
        rows = [f"| {'✔' if i == takes.best else ''} | {s.seed} | {_pct(s.words_right)} | {_num(s.voice_similarity)} |"
                for i, s in enumerate(takes.scores)]
        lines.append("\n| kept | seed | words right | voice similarity |\n| --- | --- | --- | --- |\n"
                     + "\n".join(rows))
    return "\n\n".join(lines)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"
