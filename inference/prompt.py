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

import numpy as np

SYSTEM_PROMPT = "Generate audio following instruction."

# Renders exactly the official template's output for the conversations this studio builds
# (system, optional scene, user/assistant turns, string or typed content).
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
    "{{- '\\n\\n<|scene_desc_start|>\\n' + text_of(rest[0]['content']) + '\\n<|scene_desc_end|>' }}"
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
