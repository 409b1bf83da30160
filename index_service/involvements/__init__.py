"""Involvements: who is working with a child (organisation, service, practitioner)."""
