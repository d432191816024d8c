"""The library's errors. Every error has a stable class name: Step Functions matches Retry and Catch
on the ``errorType`` that Lambda reports, which is the exception's class name."""


class RpsError(Exception):
    """Base error of the rps_core library."""


class ConfigurationError(RpsError):
    """A setting (environment variable, option, template parameter) is missing or invalid."""


class InvalidEventError(RpsError):
    """A Lambda event does not have the shape the handler accepts."""


class SourceError(RpsError):
    """The data source failed for good (after retries), or answered with a client error."""


class TransientSourceError(SourceError):
    """The data source failed in a way that a later retry may fix (429, 5xx, timeout)."""


class PayloadError(RpsError):
    """A raw payload is not in the Open-Meteo shape (schema, types, time format)."""


class DataQualityError(RpsError):
    """The quality gate rejected a raw payload; the message names the failing checks."""


class DatasetError(RpsError):
    """A dataset version is missing, corrupt (sha256 mismatch) or unreadable."""


class ModelError(RpsError):
    """A model or the champion pointer is missing, corrupt or incompatible."""


class ConflictError(RpsError):
    """A write-once object already exists, or a conditional update lost a race."""


class TrackingAuthError(ConfigurationError):
    """The MLflow tracking server refused the request (HTTP 401/403): credentials missing or wrong."""
