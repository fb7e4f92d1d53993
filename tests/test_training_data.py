"""Training data: recordings cut at pauses by Silero VAD, datasets read, bad input refused with a sentence."""

import subprocess

import numpy as np
import pytest

from inference.audio.codec import decode_audio, encode_wav
from inference.training.data import NotEnoughAudio, prepare_dataset, read_metadata
from inference.training.slicing import Slicing, clip_spans

SENTENCES = ["Hello there, this is the first sentence of my recording.",
             "And after a pause, here is the second one, a little longer than before.",
             "The third sentence closes the test."]


def recording(folder, sentences=SENTENCES, pause_s=1.0, name="talk.wav"):
    """espeak-ng sentences joined by `pause_s` of silence, as one 24 kHz wav."""
    parts = []
    for number, sentence in enumerate(sentences):
        path = folder / f"part{number}.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), sentence], check=True)
        parts += [decode_audio(path), np.zeros(int(pause_s * 24_000), np.float32)]
        path.unlink()
    (folder / name).write_bytes(encode_wav(np.concatenate(parts)))
    return folder / name


def test_recording_is_cut_at_pauses_into_the_expected_clips(tmp_path):
    # 2.3 s + 4.6 s + 3.6 s of speech: the first is under 3 s and joins the second; the third stands alone
    prepared = prepare_dataset([recording(tmp_path)], tmp_path / "set", min_total_s=5)
    assert len(prepared.rows) == 2
    assert all(3 <= seconds <= 15 for _, _, seconds in prepared.rows)
    assert read_metadata(tmp_path / "set") == [(name, "") for name, _, _ in prepared.rows]
    assert all((tmp_path / "set" / name).is_file() for name, _, _ in prepared.rows)
    assert any("Transcription is off" in note for note in prepared.notes)


def test_clip_spans_join_short_speech_and_drop_a_short_rest():
    rule = Slicing(min_s=3, max_s=15)
    assert clip_spans([(0, 1), (1.5, 2.5), (3, 5)], rule) == [(0, 5)]
    assert clip_spans([(0, 4), (5, 6)], rule) == [(0, 6)]  # a short rest joins the clip before it
    assert clip_spans([(0, 14), (15, 16)], rule) == [(0, 14)]  # ... unless that would pass the maximum
    assert clip_spans([(0, 20)], rule) == []  # over the maximum (the VAD splits long speech before this)


def test_broken_and_silent_files_are_left_out_with_a_sentence(tmp_path):
    talk = recording(tmp_path)
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really a wave file at all")
    (tmp_path / "silence.wav").write_bytes(encode_wav(np.zeros(24_000 * 5, np.float32)))
    prepared = prepare_dataset([talk, tmp_path / "broken.wav", tmp_path / "silence.wav", tmp_path / "gone.wav"],
                               tmp_path / "set", min_total_s=5)
    assert len(prepared.rows) == 2
    said = " ".join(prepared.refused)
    assert "broken.wav:" in said and "silence.wav: no stretch of speech" in said and "gone.wav: there is no such" in said


def test_too_little_speech_refuses_the_set(tmp_path):
    with pytest.raises(NotEnoughAudio, match="training needs at least 60 s"):
        prepare_dataset([recording(tmp_path)], tmp_path / "set")  # the default minimum: one minute


def test_ljspeech_and_audiofolder_datasets_are_read_with_their_transcripts(tmp_path):
    lj = tmp_path / "lj"
    (lj / "wavs").mkdir(parents=True)
    recording(lj / "wavs", SENTENCES[1:2], pause_s=0.2, name="LJ001.wav")
    (lj / "metadata.csv").write_text(f"LJ001|{SENTENCES[1]}|{SENTENCES[1]}\nLJ002|missing|missing\n")
    prepared = prepare_dataset([lj], tmp_path / "set", min_total_s=3)
    assert [text for _, text, _ in prepared.rows] == [SENTENCES[1]]
    assert any(line.startswith("wavs/LJ002.wav:") for line in prepared.refused)
    # our own output is an audiofolder, and reads back as one
    again = prepare_dataset([tmp_path / "set"], tmp_path / "again", min_total_s=3)
    assert [text for _, text, _ in again.rows] == [SENTENCES[1]]


class _Embedder:
    """Speaker vectors by clip loudness: the real WavLM model cannot be downloaded in tests, the rule can be."""

    enabled = True

    def embed(self, wave):
        loud = float(np.sqrt(np.mean(wave**2))) > 0.02
        return np.array([1.0, 0.0]) if loud else np.array([0.0, 1.0])


def test_a_second_voice_is_left_out(tmp_path):
    talk = recording(tmp_path)
    quiet = decode_audio(recording(tmp_path, SENTENCES[1:2], name="other.wav")) * 0.15
    (tmp_path / "other.wav").write_bytes(encode_wav(quiet))
    prepared = prepare_dataset([talk, tmp_path / "other.wav"], tmp_path / "set", speaker=_Embedder(), min_total_s=5)
    assert len(prepared.rows) == 2
    assert any("other.wav" in line and "another speaker" in line for line in prepared.refused)


def test_a_trained_voices_folder_that_cannot_be_written_is_said_in_a_sentence(tmp_path):
    # HVS_TRAINED_DIR naming a file used to end `python -m inference train` with NotADirectoryError's traceback.
    from inference.contract.errors import StudioError
    from inference.training.voice import prepare

    not_a_folder = tmp_path / "trained.txt"
    not_a_folder.write_text("a file")
    with pytest.raises(StudioError, match="The trained-voices folder cannot be written") as refused:
        prepare([recording(tmp_path)], not_a_folder, "ada", min_total_s=5)
    assert str(tmp_path) not in str(refused.value)  # a visitor of the Train tab is not shown the server's folders
