"""Participating organisations: each has a code, a type and the local authority it belongs to."""
