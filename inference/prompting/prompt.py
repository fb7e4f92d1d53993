"""The official Higgs Audio V2 conversation, built from a request and rendered by the chat template.

Layout (roles of the chat template):
    system     "Generate audio following instruction."
    scene      optional tone / scene description (rendered inside <|scene_desc_start|>...<|scene_desc_end|>)
    user       reference transcript            } only when cloning a voice
    assistant  reference audio                 }
    user       the text to speak
    + generation prompt (assistant header and <|audio_out_bos|>)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from inference.prompting.longform import CONTEXT_CHUNKS
from inference.prompting.text import ALL_TAGS

SYSTEM_PROMPT = "Generate audio following instruction."

# Renders exactly the official template's output for the conversations this studio builds
# (system, optional scene with text and audio items, user/assistant turns, string or typed content).
CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- macro text_of(content) -%}"
    "{%- if content is string -%}{{ content | trim }}"
    "{%- else -%}{%- for item in content if item['type'] == 'text' -%}{{ item['text'] | trim }}{%- endfor -%}"
    "{%- endif -%}"
    "{%- endmacro -%}"
    "{%- if messages[0]['role'] != 'system' -%}{{ raise_exception('A system message is required') }}{%- endif -%}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' + text_of(messages[0]['content']) }}"
    "{%- set rest = messages[1:] -%}"
    "{%- if rest and rest[0]['role'] == 'scene' -%}"
    "{{- '\\n\\n<|scene_desc_start|>\\n' }}"
    # scene items: after the first text a blank line, between texts a line break, an audio item follows
    # its text after a space ("SPEAKER0: <audio>") and is followed by a line break
    "{%- set items = rest[0]['content'] -%}"
    "{%- if items is string -%}{{ items | trim }}"
    "{%- else -%}{%- for item in items -%}"
    "{%- if item['type'] == 'text' -%}{{ item['text'] | trim }}"
    "{%- if loop.first and not loop.last -%}{{ '\\n\\n' }}"
    "{%- elif not loop.last and items[loop.index]['type'] != 'audio' -%}{{ '\\n' }}{%- endif -%}"
    "{%- elif item['type'] == 'audio' -%}{{ ' <|audio_out_bos|><|AUDIO_OUT|><|audio_eos|>' }}"
    "{%- if not loop.last -%}{{ '\\n' }}{%- endif -%}"
    "{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{- '\\n<|scene_desc_end|>' }}"
    "{%- set rest = rest[1:] -%}"
    "{%- endif -%}"
    "{{- '<|eot_id|>' }}"
    "{%- for message in rest -%}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"
    "{%- if message['role'] == 'assistant' -%}{{- '<|audio_out_bos|><|AUDIO_OUT|><|audio_eos|>' }}"
    "{%- else -%}{{- text_of(message['content']) }}{%- endif -%}"
    "{{- '<|eot_id|>' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n<|audio_out_bos|>' }}"
    "{%- endif -%}"
)


def _text(value: str) -> list[dict]:
    return [{"type": "text", "text": value}]


def build_conversation(
    text: str,
    scene: str | None = None,
    reference_text: str | None = None,
    reference_audio: np.ndarray | None = None,
    context: list[tuple[str, np.ndarray]] = (),
) -> list[dict]:
    """The official conversation for one take. `text` and `reference_text` are already normalized.

    `context` holds earlier chunks of a long text (their text and generated audio) as further
    user/assistant turns, as the official long-form generation does, so the voice carries over."""
    conversation = [{"role": "system", "content": _text(SYSTEM_PROMPT)}]
    if scene:
        conversation.append({"role": "scene", "content": _text(scene)})
    if reference_audio is not None:
        conversation.append({"role": "user", "content": _text(reference_text or "")})
        conversation.append({"role": "assistant", "content": [{"type": "audio", "audio": reference_audio}]})
    for spoken, audio in context:
        conversation.append({"role": "user", "content": _text(spoken)})
        conversation.append({"role": "assistant", "content": [{"type": "audio", "audio": audio}]})
    conversation.append({"role": "user", "content": _text(text)})
    return conversation


@dataclass(frozen=True)
class Part:
    """One generation of a take: a long text's chunk or a dialogue turn (or a piece of a long turn)."""

    text: str  # what the model is asked to say, normalized ("[SPEAKER0] Hello." in a dialogue)
    caption: str  # the same words for subtitles
    speaker: str | None = None  # the script's name for who speaks
    voice: int | None = None  # the speaker's number (SPEAKERn)
    pause_before_s: float = 0.0


# The parts of a take, which part to build, and the parts already spoken (index, audio) -> the
# conversation and the audio in the order the rendered prompt holds them. The builders pass audio through
# as given: clips, and the engine's spoken parts as their codes (see inputs.py).
ConversationBuilder = Callable[[list[Part], int, list[tuple[int, np.ndarray]]], tuple[list[dict], list[np.ndarray]]]


def caption_of(text: str) -> str:
    """Subtitle text of a normalized part: sound-effect markup back to the tag as it was typed ([laugh]; a
    caption in the person's words, not the model's [Laughter])."""
    for tag, markup in ALL_TAGS.items():
        text = text.replace(markup, tag)
    return _EFFECT_MARKUP.sub("", text).strip()


_EFFECT_MARKUP = re.compile(r"</?SE(_[se])?>")


@dataclass(frozen=True)
class SingleVoice:
    """One voice (cloned, described in the scene, or smart) for every chunk of a take; the last chunks
    spoken stay in the prompt as context, as the official long-form generation does."""

    scene: str | None
    reference_text: str | None
    reference: np.ndarray | None

    def __call__(self, parts: list[Part], index: int, spoken: list[tuple[int, np.ndarray]]
                 ) -> tuple[list[dict], list[np.ndarray]]:
        context = [(parts[i].text, wave) for i, wave in spoken[-CONTEXT_CHUNKS:]]
        conversation = build_conversation(parts[index].text, self.scene, self.reference_text, self.reference, context)
        audio = ([self.reference] if self.reference is not None else []) + [wave for _, wave in context]
        return conversation, audio
