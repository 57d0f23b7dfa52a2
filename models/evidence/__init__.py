"""Evidence: the content-addressed file store, the evidence pack and its verification."""
