"""Commands kept out of cli.py (servers, reports, init), one module each.

Each module defines one click command or group; ``sitegen.cli`` registers it. Heavy imports
stay inside the command functions so that ``sitegen --help`` remains fast.
"""
