"""A tiny random-weight Whisper checkpoint built offline, so the real ASR pipeline path runs in tests.

Byte-level vocabulary (no merges) plus Whisper's special tokens; English-only generation config.
Its transcripts are gibberish; only the plumbing is real.
"""

from __future__ import annotations

import json
from pathlib import Path


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes, extra = printable[:], 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes), strict=True))


SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>",
            "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]


def build_tiny_whisper(out: Path) -> Path:
    if (out / "model.safetensors").is_file():
        return out
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    out.mkdir(parents=True, exist_ok=True)
    vocab = {char: i for i, char in enumerate(_bytes_to_unicode().values())}
    for token in SPECIALS:
        vocab[token] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab))
    (out / "merges.txt").write_text("#version: 0.2\n")
    eot = "<|endoftext|>"
    tokenizer = WhisperTokenizer(str(out / "vocab.json"), str(out / "merges.txt"), unk_token=eot, bos_token=eot,
                                 eos_token=eot, pad_token=eot)
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS[1:]})
    ids = {name: vocab[name] for name in ("<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>")}
    config = WhisperConfig(
        vocab_size=len(vocab), num_mel_bins=80, d_model=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        max_source_positions=1500, max_target_positions=64, decoder_start_token_id=ids["<|startoftranscript|>"],
        eos_token_id=ids[eot], pad_token_id=ids[eot], bos_token_id=ids[eot],
    )
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=config.decoder_start_token_id, eos_token_id=ids[eot], pad_token_id=ids[eot],
        bos_token_id=ids[eot], no_timestamps_token_id=ids["<|notimestamps|>"], is_multilingual=False,
        max_length=12, begin_suppress_tokens=[], suppress_tokens=[],
    )
    model.save_pretrained(out)
    WhisperProcessor(WhisperFeatureExtractor(feature_size=80), tokenizer).save_pretrained(out)
    return out
