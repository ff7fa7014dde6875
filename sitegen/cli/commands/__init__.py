"""One module per command or command group; :mod:`sitegen.cli.main` registers each.

Heavy imports stay inside the command functions so that ``sitegen --help`` remains fast.
"""
