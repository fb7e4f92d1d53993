"""An event's inputs, checked before Gradio preprocesses them on the server's event loop:
- long lists are refused: Gradio validates a multi-file input's list file by file, and a `clips` list of
  2,000,000 nulls (12 MB, under the body cap) held every route, /healthz included, for 9 s;
- too few values get a sentence: Gradio's own message is hidden (show_error is off), so a raw HTTP caller
  that left values out read `{"error": null}`."""

from __future__ import annotations

import gradio as gr

MOST_ITEMS = 20_000  # a dataset's files on the Train tab fit (LJSpeech: 13,100 clips); 20,000 nulls cost ~0.1 s


def check_inputs(demo: gr.Blocks) -> None:
    plain = demo.preprocess_data

    async def preprocess_data(block_fn, inputs, *args, **kwargs):
        for value in inputs or []:
            if isinstance(value, list) and len(value) > MOST_ITEMS:
                raise gr.Error(f"A list in the request holds {len(value):,} items; at most {MOST_ITEMS:,} are taken.",
                               print_exception=False)
        if len(inputs or []) < len(block_fn.inputs):
            raise gr.Error(f"This endpoint takes {len(block_fn.inputs)} values in `data`, in the order "
                           f"/gradio_api/info lists them; got {len(inputs or [])}. (gradio_client fills in defaults.)",
                           print_exception=False)
        return await plain(block_fn, inputs, *args, **kwargs)

    demo.preprocess_data = preprocess_data
