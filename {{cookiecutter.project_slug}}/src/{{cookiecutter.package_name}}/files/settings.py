"""The downloads' settings: which directory is served, and whether nginx sends the bytes."""

from pathlib import Path

from pydantic import Field

from ..core.settings import PieceSettings


class FilesSettings(PieceSettings):
    """The directory served at /files/ (and the piece size files are read in)."""

    files_dir: Path = Field(
        default=Path("files"),
        description="Directory served at /files/; a relative path starts at the working directory.",
    )
    files_accel_redirect: str = Field(
        default="",
        pattern=r"^(/([A-Za-z0-9._~-]+/)+)?$",
        description="Behind nginx: the internal location nginx serves FILES_DIR from (/_files/ "
        "in the shipped config), so nginx sends the bytes; empty, the service sends them.",
    )
