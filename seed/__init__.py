"""The curated seed: source articles, records in YAML, and the loader that builds the database."""
