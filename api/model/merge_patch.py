"""JSON merge patch (RFC 7396): null removes a member, objects merge, anything else replaces."""


def merge_patch(target, patch):
    """The target with patch applied, per RFC 7396 section 2; neither argument is modified."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result
