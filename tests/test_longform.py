"""Long texts are spoken chunk by chunk, earlier chunks kept as context, and still add up to one take."""

import numpy as np
import pytest

from inference import InvalidRequest, SynthesisRequest
from inference.prompting.longform import MAX_CHUNK_WORDS, split_text
from inference.prompting.prompt import build_conversation
from inference.prompting.text import normalize_text

SENTENCE = "The river runs past the old mill and into the quiet valley below."  # 13 words


def test_short_text_is_one_chunk():
    assert split_text(SENTENCE) == [SENTENCE]


def test_long_text_splits_at_sentences_within_the_budget():
    text = " ".join([SENTENCE] * 20)  # 260 words
    chunks = split_text(text)
    assert len(chunks) == 3
    assert all(len(c.split()) <= MAX_CHUNK_WORDS for c in chunks)
    assert all(c.endswith("below.") for c in chunks)  # cut between sentences, never inside one
    assert " ".join(chunks) == text


def test_run_on_sentences_are_cut_by_words_and_short_lines_are_gathered():
    run_on = " ".join(["word"] * 250)
    chunks = split_text(f"{SENTENCE}\n{run_on}")
    assert [len(c.split()) for c in chunks] == [13, 100, 100, 50]  # the sentence stays whole
    poem = "\n".join(["A short line of the poem here."] * 20)  # 7 words a line, 140 in all
    chunks = split_text(poem)
    assert [len(c.split()) for c in chunks] == [98, 42]  # two generations, not twenty
    assert chunks[0].count("\n") == 13


def test_cjk_text_is_measured_in_characters_and_split_at_full_stops():
    sentence = "今天天气很好我们去公园散步吧." # 15 characters -> 5 "words"
    chunks = split_text(sentence * 30, max_words=40)
    assert len(chunks) == 4 and all(c.endswith(".") for c in chunks)
    run_on = "今天天气很好我们去公园散步吧" * 130  # 1820 characters and no punctuation at all
    chunks = split_text(run_on)
    assert len(chunks) == 7 and max(len(c) for c in chunks) <= 300
    assert "".join(chunks) == run_on


def test_pieces_with_nothing_to_say_ride_along_with_their_neighbours():
    body = " ".join([SENTENCE] * 9)  # 117 words
    chunks = split_text(normalize_text(f"***\n{body} [laugh] ***"))
    assert len(chunks) == 2
    assert chunks[0].startswith("***\nThe river")
    assert chunks[-1].endswith("below. <SE>[Laughter]</SE> ***.")


def test_context_chunks_become_user_and_assistant_turns():
    wave = np.zeros(24_000, np.float32)
    conversation = build_conversation("Third part.", None, "Ref words.", wave,
                                      [("First part.", wave), ("Second part.", wave)])
    roles = [turn["role"] for turn in conversation]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user", "assistant", "user"]
    assert conversation[3]["content"][0]["text"] == "First part."
    assert conversation[-1]["content"][0]["text"] == "Third part."


def test_engine_speaks_a_long_text_in_chunks(engine, speech_wav):
    text = " ".join([SENTENCE] * 20)
    request = SynthesisRequest.parse(text=text, reference_audio=speech_wav, reference_text="Hello.",
                                     max_new_tokens=20, seed=3)
    result = engine.synthesize(request)
    assert result.chunks == 3
    assert len(result.waveform) == 3 * 12 * 960  # 20 tokens per chunk -> 12 frames each
    assert np.array_equal(engine.synthesize(request).waveform, result.waveform)
    streamed = list(engine.stream(request, first_chunk_frames=4, chunk_frames=4))
    assert np.array_equal(streamed[-1].result.waveform, result.waveform)  # streamed or not, the same take
    joined = np.concatenate([c.waveform for c in streamed])
    assert np.abs(joined - result.waveform).max() < 1e-3 * np.abs(result.waveform).max()
    assert sum(len(c.waveform) for c in streamed) == len(result.waveform)


def test_long_bracketed_asides_still_count_against_the_budget():
    aside = "[" + " ".join(["quiet rain falls on the old town"] * 10) + "]"  # 70 words in brackets
    chunks = split_text("Chapter one.\n" + "\n".join([aside] * 5))
    assert [len(c.split()) for c in chunks] == [72, 70, 70, 70, 70]


def test_parts_by_sentence_make_every_sentence_a_part_of_its_own():
    text = "One short line. Two words! A third sentence here? <SE>[Laughter]</SE> Fourth.\n***\nFifth."
    assert split_text(text) == [text]  # by length: one part
    assert split_text(text, by_sentence=True) == [
        "One short line.", "Two words!", "A third sentence here? <SE>[Laughter]</SE>", "Fourth.\n***", "Fifth."]


def test_a_sentence_ends_after_a_closing_quote_but_not_after_a_title_or_an_initial():
    text = 'Dr. Smith met Mrs. Jones and John F. Kennedy at noon. "Hello there." "Hi." She left, e.g. at once.'
    assert split_text(text, by_sentence=True) == [
        "Dr. Smith met Mrs. Jones and John F. Kennedy at noon.", '"Hello there."', '"Hi."', "She left, e.g. at once."]


def test_a_take_of_more_parts_than_a_recipe_holds_is_refused_before_generating():
    from inference.contract.recipe import MAX_PARTS
    from inference.prompting.plan import plan_request

    many = " ".join(f"Sentence {i}." for i in range(MAX_PARTS + 1))
    plan_request(SynthesisRequest.parse(text=many), is_noise=False)  # by length: a few parts, fine
    with pytest.raises(InvalidRequest, match=f"{MAX_PARTS + 1} sentences; a take has at most {MAX_PARTS} parts"):
        plan_request(SynthesisRequest.parse(text=many, parts="sentence"), is_noise=False)
    script = "\n".join(f"{'Ann' if i % 2 else 'Bob'}: line {i}." for i in range(MAX_PARTS + 1))
    with pytest.raises(InvalidRequest, match="dialogue turns; a take has at most"):
        plan_request(SynthesisRequest.parse(text=script, speakers={}), is_noise=False)
