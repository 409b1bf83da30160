"""Who is calling (authentication) and what they may do (the one access policy)."""
