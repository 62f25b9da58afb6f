"""python -m seed [PATH]: rebuild the database from the seed files."""

import sys

from seed.loader import build_database

if __name__ == "__main__":
    counts = build_database(sys.argv[1] if len(sys.argv) > 1 else "icc-events.db")
    print(", ".join(f"{n} {name}" for name, n in counts.items()))
