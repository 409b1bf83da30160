"""Synthetic demo data: generated, never real people."""
