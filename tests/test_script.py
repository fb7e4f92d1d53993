"""Dialogue scripts: golden parses of both notations, continuation lines, tags, CJK, and clear refusals."""

import pytest

from inference.prompting.script import ScriptError, parse_script, speaker_of_line


def turns(text: str) -> list[tuple[str, int, str]]:
    return [(t.speaker, t.number, t.text) for t in parse_script(text).turns]


def test_official_tags():
    assert turns("[SPEAKER0] I can't believe it!\n[SPEAKER1] Oh, come on.\n[SPEAKER0] Really?") == [
        ("SPEAKER0", 0, "I can't believe it!"), ("SPEAKER1", 1, "Oh, come on."), ("SPEAKER0", 0, "Really?")]


def test_names_numbered_by_first_appearance_and_matched_regardless_of_case():
    script = parse_script("Bob: Hi.\nAlice: Hello, Bob.\nbob: How are you?")
    assert script.speakers == ["Bob", "Alice"]
    assert [(t.speaker, t.tag) for t in script.turns] == [("Bob", "SPEAKER0"), ("Alice", "SPEAKER1"),
                                                          ("Bob", "SPEAKER0")]


def test_official_tags_are_renumbered_by_first_appearance_too():
    assert turns("[SPEAKER1] First.\n[SPEAKER0] Second.") == [("SPEAKER1", 0, "First."), ("SPEAKER0", 1, "Second.")]


def test_untagged_lines_continue_the_current_speaker_and_blank_lines_are_skipped():
    assert turns("Alice: Once upon a time,\nthere was a fox.\n\nDr. Smith: Go on.\n[laugh] Please.") == [
        ("Alice", 0, "Once upon a time,\nthere was a fox."), ("Dr. Smith", 1, "Go on.\n[laugh] Please.")]


def test_sound_tags_are_never_speakers_and_stay_in_the_text():
    assert turns("Alice: Hello [laugh] there.\n[applause]\nBob: [cough] Thanks.") == [
        ("Alice", 0, "Hello [laugh] there.\n[applause]"), ("Bob", 1, "[cough] Thanks.")]


def test_cjk_names_and_full_width_colon():
    assert turns("小明：你好，今天天气很好。\n小红: 是的！") == [("小明", 0, "你好，今天天气很好。"), ("小红", 1, "是的！")]


def test_a_colon_late_in_a_line_times_and_urls_are_not_speakers():
    assert turns("Alice: Meet me at\n10:30 near the station. It is written here: bring a map.\n"
                 "https://example.com is the site.") == [
        ("Alice", 0, "Meet me at\n10:30 near the station. It is written here: bring a map.\n"
                     "https://example.com is the site.")]


@pytest.mark.parametrize(("script", "words"), [
    ("", "empty"),
    ("Hello there.\nAlice: Hi.", "Line 1 says nothing about who speaks"),
    ("Alice: [laugh]\nBob: Hi.", "Alice's turn on line 1 has only sound tags"),
    ("Alice:\nBob: Hi.", "Alice's turn on line 1 has no text"),
    ("A: 1.\nB: 2.\nC: 3.\nD: 4.\nE: 5.", "The script has 5 speakers (A, B, C, D, E); at most 4"),
    ("Laugh: Ha ha.", "The speaker name 'Laugh' on line 1 is also a sound-effect tag ([laugh])"),
    ("Alice: Hi.\nmusic: la la.", "is also a sound-effect tag ([music])"),
])
def test_refusals_say_what_to_change(script, words):
    with pytest.raises(ScriptError, match=None) as caught:
        parse_script(script)
    assert words in str(caught.value)


@pytest.mark.timeout(20)  # the backtracking pattern this replaced took hours here (quadratic in the line)
def test_parsing_is_linear_on_hostile_lines():
    hostile = "a" + " " * 200_000 + "b"  # a name-like start, then no colon: the worst case for a backtracking name
    assert speaker_of_line(hostile) is None
    assert speaker_of_line("x" * 100_000 + ": hi") is None  # too long to be a name
    assert speaker_of_line("  Mary Ann O'Neil-Smith :  Hello there.  ") == ("Mary Ann O'Neil-Smith", "Hello there.")
    assert speaker_of_line("see http://example.com: no") is None  # a URL's colon opens no turn


def test_an_over_long_script_is_refused_before_parsing():
    with pytest.raises(ScriptError, match="1000000 characters long; the limit is 2000"):
        parse_script("Alice: " + "a" * (1_000_000 - 7))
