"""Practitioner flags: dated, attributed, reviewable statements that mean "contact this person"."""
