"""Web chat (Gradio) and REST API (FastAPI)."""
