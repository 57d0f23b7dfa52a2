"""The pure core: the roadmap and its importer, schedules, policy, directory, the escalation
planner, ledger hashing, targets and progress. Imports no database, orchestration or
channel library, and reads no settings or environment (tests/unit/test_boundary.py)."""
