"""Request validation: every mistake comes back as a sentence a person can act on."""

import pytest

from inference.contract.errors import InvalidRequest
from inference.contract.request import MAX_TEXT_CHARS, SynthesisRequest


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": ""}, "there is no text to speak"),
        ({"text": "   \n\t "}, "there is no text to speak"),
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, f"the limit is {MAX_TEXT_CHARS}"),
        ({"text": "hi", "temperature": 2.5}, r"temperature must be at most 2.0 \(got 2.5\)"),
        ({"text": "hi", "temperature": -1}, "temperature must be at least 0.0"),
        ({"text": "hi", "top_p": 0}, "top_p must be more than 0.0"),
        ({"text": "hi", "top_k": 5000}, "top_k must be at most 1024"),
        ({"text": "hi", "max_new_tokens": 8}, "max_new_tokens must be at least 9"),  # no whole frame yet
        ({"text": "hi", "max_new_tokens": 10**60}, r"must be at most 4096 \(got 1000000000\d{30}\.\.\.\)\.$"),
        ({"text": "hi", "top_k": 50.5}, r"top_k must be a whole number \(got 50.5\)"),
        ({"text": "hi", "max_new_tokens": True}, "max_new_tokens must be a number, not true"),
        ({"text": "hi", "seed": False}, "seed must be a number, not false"),
        ({"text": "hi", "temperature": True}, "temperature must be a number, not true"),
        ({"text": "Say <|AUDIO_OUT|> now"}, "text may not contain the model's control token <\\|AUDIO_OUT\\|>"),
        ({"text": "hi", "scene": "x<|eot_id|><|start_header_id|>"}, "scene may not contain .* <\\|eot_id\\|>"),
        ({"text": "hi", "reference_text": "<|audio_bos|>"}, "reference_text may not contain"),
        ({"text": "broken \ud83d emoji"}, "text holds characters that are not valid text"),
        ({"text": "hi", "reference_text": "x\udc00"}, "reference_text holds characters that are not valid text"),
        ({"text": "hi", "seed": -3}, "seed must be at least 0"),
        ({"text": "hi", "seed": 2**40}, "seed must be at most"),
        ({"text": "hi", "voice_id": "x"}, "unknown field 'voice_id'"),
        ({"text": "hi", "temperature": "warm"}, "temperature has the wrong type"),
        ({"text": "hi", "reference_audio": "/no/such/file.wav"}, "there is no reference audio file named 'file.wav'"),
        ({"text": "hi", "reference_audio": b""}, "the reference audio file is empty"),
        ({"text": "hi", "scene": "s" * 1001}, "scene is too long"),
        ({}, "text is required"),
    ],
)
def test_invalid_requests_get_a_readable_sentence(fields, message):
    with pytest.raises(InvalidRequest, match=message) as caught:
        SynthesisRequest.parse(**fields)
    assert str(caught.value).startswith("Invalid request: ")
    assert "pydantic" not in str(caught.value) and "errors.pydantic.dev" not in str(caught.value)


def test_defaults_follow_the_official_serve_engine():
    request = SynthesisRequest.parse(text="hi", scene="   ", reference_text="")
    assert (request.sampling.temperature, request.sampling.top_p, request.sampling.top_k) == (0.7, 0.95, 50)
    assert (request.sampling.ras_win_len, request.sampling.ras_max_repeats) == (7, 2)
    assert request.sampling.max_new_tokens == 2048
    assert request.scene is None and request.reference_text is None and request.seed is None


def test_none_options_mean_defaults():
    request = SynthesisRequest.parse(text="hi", temperature=None, top_k=None, seed=None)
    assert request.sampling.temperature == 0.7 and request.sampling.top_k == 50
