"""A learned extractive reader: reads a question with passages and points at the answer span."""
