"""Alerts: who is told what, when someone enquires about a child, a flag or an involvement
changes, a child moves, an alert goes unanswered, or a shielded record is reached
(DOMAIN.md R1 to R7); and their delivery through a transactional outbox."""
