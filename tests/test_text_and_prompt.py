"""Normalization and prompt rendering against the official Higgs Audio V2 format."""

import numpy as np
import pytest

from inference.prompting.prompt import SYSTEM_PROMPT, build_conversation
from inference.prompting.text import normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello there", "Hello there."),
        ("Already done!", "Already done!"),
        ("A list,", "A list,"),
        ('He said "hi"', 'He said "hi"'),
        ("你好，世界。", "你好,世界."),
        ("Wait（really）？", "Wait really ?"),
        ("It is 70°F or 21°C today", "It is 70 degrees Fahrenheit or 21 degrees Celsius today."),
        ("That was funny [laugh]", "That was funny <SE>[Laughter]</SE>"),
        ("[music] Welcome", "<SE>[Music]</SE> Welcome."),
        ("Claps [applause] and [cheering] then [cough]",
         "Claps <SE>[Applause]</SE> and <SE>[Cheering]</SE> then <SE>[Cough]</SE>"),
        ("[humming start] la la [humming end]", "<SE_s>[Humming]</SE_s> la la <SE_e>[Humming]</SE_e>"),
        ("[sing start] oh [sing end]", "<SE_s>[Sing]</SE_s> oh <SE_e>[Sing]</SE_e>"),
        ("[Music Start] x [MUSIC END]", "<SE_s>[Music]</SE_s> x <SE_e>[Music]</SE_e>"),
        ("  lots   of\tspace \n\n\n second   line ", "lots of space\nsecond line."),
    ],
)
def test_normalize_follows_the_official_rules(raw, expected):
    assert normalize_text(raw) == expected


@pytest.fixture(scope="module")
def processor(engine):
    return engine.processor


def render(processor, conversation):
    return processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)


HEADER = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" + SYSTEM_PROMPT
GEN = "<|start_header_id|>assistant<|end_header_id|>\n\n<|audio_out_bos|>"


def test_smart_voice_prompt_without_scene(processor):
    assert render(processor, build_conversation("Hello there.")) == (
        HEADER + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello there.<|eot_id|>" + GEN
    )


def test_scene_goes_between_scene_markers_in_the_system_turn(processor):
    text = render(processor, build_conversation("Hi.", scene="Audio is recorded from a quiet room."))
    assert text == (
        HEADER + "\n\n<|scene_desc_start|>\nAudio is recorded from a quiet room.\n<|scene_desc_end|><|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi.<|eot_id|>" + GEN
    )


def test_cloning_prompt_has_transcript_then_reference_audio_then_target(processor):
    ref = np.zeros(24_000, np.float32)
    text = render(processor, build_conversation("Target text.", "Calm.", "Reference words.", ref))
    assert text == (
        HEADER + "\n\n<|scene_desc_start|>\nCalm.\n<|scene_desc_end|><|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nReference words.<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n<|audio_out_bos|><|AUDIO_OUT|><|audio_eos|><|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nTarget text.<|eot_id|>" + GEN
    )


def test_reference_audio_becomes_delay_patterned_codes(engine, speech_wav):
    from inference import SynthesisRequest

    prompt = engine.render_prompt(SynthesisRequest.parse(text="Hi", reference_audio=speech_wav, reference_text="x"))
    codes = prompt.inputs["audio_input_ids"][0]
    # 8 codebooks; first row is the stream BOS for every codebook, last row the stream EOS.
    assert codes.shape[1] == 8
    assert (codes[0] == 1024).all() and (codes[-1] == 1025).all()
    # delay pattern: codebook k starts k rows late, so row 1 has BOS in codebooks 1..7 only
    assert codes[1, 0] < 1024 and (codes[1, 1:] == 1024).all()
    # one placeholder token per audio row in the token ids
    audio_tokens = (prompt.inputs["input_ids"][0] == engine.model.config.audio_token_id).sum() + (
        prompt.inputs["input_ids"][0] == engine.model.config.audio_delay_token_id).sum()
    assert int(audio_tokens) == codes.shape[0]
