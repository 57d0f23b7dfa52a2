"""The shell: Prefect flows, the outbox worker, deployments and the esgtrack CLI."""
