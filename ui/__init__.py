"""Web chat (Gradio) and REST API (FastAPI), served together by ``qa serve``.

Gradio reads ``GRADIO_ANALYTICS_ENABLED`` when it is imported and when Blocks are built; it is
switched off here, before any module of this package can import gradio, so the server never
calls home (an explicit setting in the environment is kept).
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
