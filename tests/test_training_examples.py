"""The golden masking test: only the target clip's codes (and codebook 0's stream EOS) carry a label."""

import pytest
import torch

from inference.training.examples import IGNORE, build_example, collate, position_labels


@pytest.fixture(scope="module")
def processor(engine):
    return engine.processor


def test_only_the_target_clips_codes_carry_labels(engine, processor):
    bos, eos, pad = processor.audio_stream_bos_id, processor.audio_stream_eos_id, processor.tokenizer.pad_token_id
    short = build_example(processor, "Hi.", torch.arange(24).reshape(3, 8))  # 3 frames, 8 codebooks
    long = build_example(processor, "A longer line to speak here.", torch.arange(40).reshape(5, 8) + 100)
    golden = torch.full((12, 8), IGNORE)  # F + K + 1 rows; codebook k's frames on rows k+1..k+F
    for k in range(8):
        golden[k + 1:k + 4, k] = torch.arange(3) * 8 + k
    golden[4, 0] = eos  # codebook 0's end: the model's one decision to stop
    assert torch.equal(short["audio_labels"][0], golden)

    batch = collate([short, long], pad, eos)
    labels = position_labels(batch, (processor.audio_token_id, processor.audio_delay_token_id))
    ids = batch["input_ids"]
    text = (ids != processor.audio_token_id) & (ids != processor.audio_delay_token_id)
    assert (labels[text] == IGNORE).all()  # system, scene, transcript, headers, padding
    assert (ids[0][batch["attention_mask"][0] == 0] == pad).all() and (batch["attention_mask"][0] == 0).any()
    assert (batch["audio_labels"][0, 12:] == IGNORE).all()  # the short row's padded audio rows
    assert [int((labels[row] != IGNORE).sum()) for row in range(2)] == [3 * 8 + 1, 5 * 8 + 1]
    assert not ((labels == bos).any())

    # the model lays the labels out the same way: its loss equals cross-entropy over these positions
    with torch.no_grad():
        out = engine.model(**batch)
    logits = out.logits.float().reshape(*ids.shape, 8, -1)[:, :-1]
    ours = sum(torch.nn.functional.cross_entropy(logits[..., k, :].reshape(-1, logits.shape[-1]),
                                                 labels[:, 1:, k].reshape(-1), ignore_index=IGNORE)
               for k in range(8))
    assert torch.allclose(out.loss, ours, rtol=1e-4)
