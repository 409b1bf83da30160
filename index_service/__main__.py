"""`python -m index_service`: the command line, as `index-service run` starts its children
(with the same interpreter, whatever the installed script is called)."""

from index_service.cli import app

app(prog_name="index-service")
