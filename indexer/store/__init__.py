"""The index on disk and its schema: a folder of immutable versions, each a manifest, vectors, the keyword index
and `meta.sqlite`; the lock, the writer and the atomic switch to a new version (`lifecycle`), and the named
reads over a version. Every SQL statement over an index version lives here; the rest of the core imports the
names below from the package.
"""

from .lifecycle import IndexRoot, IndexVersion, VersionWriter

__all__ = ["IndexRoot", "IndexVersion", "VersionWriter"]
