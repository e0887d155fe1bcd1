"""The downloads' settings: which directory is served."""

from pathlib import Path

from pydantic import Field

from ..core.settings import PieceSettings


class FilesSettings(PieceSettings):
    """The directory served at /files/ (and the piece size files are read in)."""

    files_dir: Path = Field(
        default=Path("files"),
        description="Directory served at /files/; a relative path starts at the working directory.",
    )
