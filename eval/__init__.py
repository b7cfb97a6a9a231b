"""Evaluation: metrics, question sets and benchmark scripts."""
