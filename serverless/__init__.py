"""RunPod serverless worker: job JSON -> the studio's engine -> audio (S3 presigned URL or base64).

Entry point: `python -m serverless.handler` (add `--rp_serve_api` for RunPod's local test API).
"""
