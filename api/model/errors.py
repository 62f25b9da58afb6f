"""What the data cannot do, said without HTTP: the store and exports raise these, and the web layer
(api/web/errors.py) answers each kind with its status as a problem response."""


class DomainError(Exception):
    """detail is for people; errors maps field names to what is wrong with each."""

    def __init__(self, detail: str, errors: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail, self.errors = detail, errors


class InvalidArgument(DomainError):
    """An argument (a cursor, a filter value) that this data cannot take."""


class NotFound(DomainError):
    """No record with that id."""


class Conflict(DomainError):
    """The write contradicts what is stored: an id taken, a record still referred to."""


class StaleVersion(DomainError):
    """The client's version of a record is not the current one."""

    def __init__(self, detail: str, current_etag: str):
        super().__init__(detail)
        self.current_etag = current_etag


class InvalidRecord(DomainError):
    """A record the schema or its evidence refuses; errors names each field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(f"The record is not valid: {', '.join(sorted(errors))}.", errors)


class Busy(DomainError):
    """The storage is busy (another writer, a file being built); the same request may succeed later."""

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after
