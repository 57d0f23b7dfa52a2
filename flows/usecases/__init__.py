"""Use cases: one function each, one session_scope each; the CLI, the flows, the benchmarks
and the tests call these."""
