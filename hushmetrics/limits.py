"""The request-size defaults, in one place for both readers: the settings (the app's own 413)
and deploy/serve.py (nginx's client_max_body_size, rendered from them). Plain constants, no
Django import, so serve.py can read them before anything is configured."""

MiB = 1024 * 1024

# MAX_BODY_BYTES: any API body, and the non-file fields of a multipart one.
DEFAULT_MAX_BODY_BYTES = 1 * MiB
# MAX_UPLOAD_BYTES: a whole multipart/form-data body, files included (files are read as they
# stream and never kept, so this bounds time on the wire, not memory).
DEFAULT_MAX_UPLOAD_BYTES = 25 * MiB
