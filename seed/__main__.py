"""python -m seed [PATH]: rebuild the database from the seed files."""

import sys

from seed.loader import build_database, count_summary

if __name__ == "__main__":
    counts = build_database(sys.argv[1] if len(sys.argv) > 1 else "icc-events.db")
    print(count_summary(counts))
