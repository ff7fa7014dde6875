"""The ``sitegen`` command line: the click group (:mod:`.main`), one module per command in
:mod:`.commands`, and what they share (:mod:`.options`, :mod:`.progress`, :mod:`.scaffold`)."""

from sitegen.cli.main import cli, main

__all__ = ["cli", "main"]
