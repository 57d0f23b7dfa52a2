"""Settings and shipped data (the roadmap, the example directory, the policy)."""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
ROADMAPS_DIR = CONFIG_DIR / "roadmaps"
SHIPPED_ROADMAP = ROADMAPS_DIR / "kazakhtelecom-2025-2032.yaml"
SHIPPED_DOCUMENT = ROADMAPS_DIR / "kazakhtelecom-2025-2032.kk.txt"
EXAMPLE_DIRECTORY = CONFIG_DIR / "directory.example.yaml"
DEFAULT_POLICY = CONFIG_DIR / "policy.yaml"
