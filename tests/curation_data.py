"""Request bodies for write tests: valid records that cite the seed article at real offsets."""

SOURCE_ID = "trump-campaign-against-icc-faces-resistance"
ICC_CITATION = {
    "source_id": SOURCE_ID,
    "start": 219,
    "end": 253,
    "quote": "International Criminal Court (ICC)",
    "supports": ["name", "kind", "description"],
    "basis": "stated",
}
JSON_HEADERS = {"Content-Type": "application/json"}
PATCH_HEADERS = {"Content-Type": "application/merge-patch+json"}


def new_organization(record_id: str = "test-monitor", **changes) -> dict:
    return {
        "id": record_id,
        "name": "Test Monitor",
        "kind": "ngo",
        "citations": [dict(ICC_CITATION)],
        **changes,
    }


def new_official(record_id: str = "test-official", **changes) -> dict:
    return {
        "id": record_id,
        "name": "Test Official",
        "role": "Observer",
        "organization_id": "icc",
        "status": "current",
        "citations": [
            {**ICC_CITATION, "supports": ["name", "role", "organization_id", "status", "description"]}
        ],
        **changes,
    }
