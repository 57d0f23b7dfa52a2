"""Use cases the CLI and the flows share, each one function that opens its own session_scope:
the configured database, one daily pass, targets. (More of the CLI's work moves here.)"""
