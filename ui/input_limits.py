"""Gradio preprocesses an event's inputs on the server's event loop, item by item (a multi-file input's list is
validated file by file): a `clips` list of 2,000,000 nulls (12 MB, under the body cap) held every route,
/healthz included, for 9 s before it was refused. Long lists are refused before Gradio walks them."""

from __future__ import annotations

import gradio as gr

MOST_ITEMS = 20_000  # a dataset's files on the Train tab fit (LJSpeech: 13,100 clips); 20,000 nulls cost ~0.1 s


def limit_lists(demo: gr.Blocks) -> None:
    plain = demo.preprocess_data

    async def preprocess_data(block_fn, inputs, *args, **kwargs):
        for value in inputs or []:
            if isinstance(value, list) and len(value) > MOST_ITEMS:
                raise gr.Error(f"A list in the request holds {len(value):,} items; at most {MOST_ITEMS:,} are taken.",
                               print_exception=False)
        return await plain(block_fn, inputs, *args, **kwargs)

    demo.preprocess_data = preprocess_data
