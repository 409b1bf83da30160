"""The service's processes: `serve` with several server processes behind one socket, and
`run` (what `make run` starts: the server and the alert worker), with the rules that make
a supervisor and its children stop together, whatever stops the supervisor."""
