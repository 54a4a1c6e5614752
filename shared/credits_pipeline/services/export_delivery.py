"""A multi-file export as its manifest and the bucket show it: which parts are in, which delivery it is.

Read alike by the splitter (which pushes a delivery once every part is in) and the watchdog (which tells
of one that waits too long), so that both judge a delivery by the same rules.
"""

import hashlib
from dataclasses import dataclass

from credits_pipeline.domain.exports import manifest_parts
from credits_pipeline.domain.identity import export_identity
from credits_pipeline.services.ports import ObjectStorePort, StoredObject

Part = tuple[str, str]  # (bucket, key)


@dataclass(frozen=True)
class ExportDelivery:
    manifest_sha256: str
    parts: list[Part]  # as the manifest names them, in its order
    stored: dict[Part, StoredObject]  # those in the bucket, as S3 stores them now
    missing: list[str]  # s3:// addresses of those not in the bucket

    @property
    def identity(self) -> str:
        """The delivery's identity: its manifest's bytes and its parts as stored (a complete delivery's)."""
        return export_identity(self.manifest_sha256, self.stored)

    def refreshed_in_place(self, accepted: tuple[str, str] | None) -> bool:
        """Whether these manifest bytes were read before with other parts (`accepted`: the manifest's SHA-256
        and identity when last read): its parts were rewritten since, and the delivery waits for its new
        manifest (an export refreshing its files in place writes it last). Read now, it would mix old and new."""
        return accepted is not None and accepted[0] == self.manifest_sha256 and accepted[1] != self.identity


def export_delivery(objects: ObjectStorePort, manifest: bytes, bucket: str) -> ExportDelivery:
    """The delivery `manifest` (the bytes of a manifest in `bucket`) names; ManifestInvalid when it is unusable."""
    parts = manifest_parts(manifest, bucket)
    found = {part: objects.head(*part) for part in parts}
    return ExportDelivery(
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        parts=parts,
        stored={part: stored for part, stored in found.items() if stored is not None},
        missing=[f"s3://{bucket_}/{key}" for (bucket_, key), stored in found.items() if stored is None],
    )
