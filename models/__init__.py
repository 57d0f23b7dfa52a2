"""esgtrack's domain: the pure core (roadmap, importer, schedule, ledger) and its persistence."""
