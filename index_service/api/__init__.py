"""HTTP concerns only: thin routers that parse, authorise, call a service and return a
`*Public` schema."""
