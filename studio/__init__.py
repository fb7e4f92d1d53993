"""The studio service: what every door calls. Admission, queue, drain, cancellation, voices, scene, best-of,
take check and take store; no torch, no Gradio, no HTTP."""
