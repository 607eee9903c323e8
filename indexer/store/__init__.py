"""The index on disk and its schema: a folder of immutable versions, each a manifest, vectors, the keyword index
and `meta.sqlite` (`schema`); the build lock, the writer and the atomic switch to a new version (`lifecycle`);
and every read over a built version behind a named method (`reads`). No SQL over an index version is written
outside this package; the rest of the core imports the names below from the package.
"""

from .lifecycle import IndexRoot, VersionWriter
from .reads import IndexVersion

__all__ = ["IndexRoot", "IndexVersion", "VersionWriter"]
