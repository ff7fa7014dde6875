"""Long-running servers behind ``sitegen`` commands: the dev server (:mod:`.dev`) and the
webhook receiver (:mod:`.hooks`, with Contentstack's payloads in :mod:`.webhook`).

The click commands in ``sitegen.cli.commands`` start them. Imports stay light so that
``sitegen --help`` remains fast.
"""
