"""Long-running servers behind ``sitegen`` commands (the webhook receiver, the dev server).

One module each; the click commands in ``sitegen.cli.commands`` start them. Imports stay light so
that ``sitegen --help`` remains fast.
"""
