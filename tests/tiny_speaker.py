"""A tiny random-weight WavLMForXVector speaker model built offline, so the real speaker-embedding path runs
in tests. Its embeddings mean nothing; only the plumbing is real."""

from __future__ import annotations

from pathlib import Path


def build_tiny_speaker_model(out: Path) -> Path:
    if (out / "model.safetensors").is_file():
        return out
    import torch
    from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMForXVector

    torch.manual_seed(0)
    config = WavLMConfig(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        conv_dim=(32, 32, 32), conv_stride=(5, 4, 4), conv_kernel=(10, 8, 8), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, tdnn_dim=(32, 32), tdnn_kernel=(5, 3), tdnn_dilation=(1, 2),
        xvector_output_dim=16, num_buckets=32, max_bucket_distance=64,
    )
    WavLMForXVector(config).save_pretrained(out)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, padding_value=0.0, do_normalize=True,
                             return_attention_mask=True).save_pretrained(out)
    return out
