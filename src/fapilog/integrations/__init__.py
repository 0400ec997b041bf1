"""Bridges between fapilog and other libraries (stdlib logging, web frameworks, metrics, tracing)."""
