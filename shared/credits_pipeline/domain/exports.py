"""AWS exports that deliver one billing period as several files: which key is a part, which a manifest.

A part is never the month: pushed alone as `replace_drop`, each part would replace the others. The
month goes once, from all the parts its manifest names, when every one of them is in the bucket.

- Data Exports (CUR 2.0, FOCUS): `<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/<part>` and, written
  after every part, `<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json` whose
  `dataFiles` are the parts' S3 URIs.
- Legacy CUR: `<prefix>/<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-<n>.csv.gz` and
  `<prefix>/<report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json` whose `reportKeys` are the parts' keys.
  The copy of the manifest inside the assembly folder is never read as a credits file (it is no such
  thing): its event is taken as a part's, the period's own manifest naming the parts.
"""

import json
import re
from dataclasses import dataclass

from credits_pipeline.domain.months import in_bounds

_DATA_PART = re.compile(
    r"^(?P<root>(?:.*/)?)(?P<export>[^/]+)/data/BILLING_PERIOD=(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])/[^/]+$"
)
_DATA_MANIFEST = re.compile(
    r"^(?P<root>(?:.*/)?)(?P<export>[^/]+)/metadata/BILLING_PERIOD=(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])/"
    r"(?P=export)-Manifest\.json$"
)
_CUR_PART = re.compile(
    r"^(?P<root>(?:.*/)?)(?P<report>[^/]+)/(?P<year>\d{4})(?P<month>0[1-9]|1[0-2])01-\d{8}/[^/]+/"
    r"(?P=report)-\d+\.(?:csv\.gz|csv\.zip|csv|snappy\.parquet|parquet)$"
)
_CUR_MANIFEST = re.compile(
    r"^(?P<root>(?:.*/)?)(?P<report>[^/]+)/(?P<year>\d{4})(?P<month>0[1-9]|1[0-2])01-\d{8}/(?P=report)-Manifest\.json$"
)
_CUR_MANIFEST_COPY = re.compile(
    r"^(?P<root>(?:.*/)?)(?P<report>[^/]+)/(?P<year>\d{4})(?P<month>0[1-9]|1[0-2])01-\d{8}/[^/]+/(?P=report)-Manifest\.json$"
)
# A manifest lists a handful of parts; a thousand is a broken or hostile one.
MAX_PARTS = 1_000


class ManifestInvalid(ValueError):
    """The manifest cannot be read or names no parts; the message is the reason."""


@dataclass(frozen=True)
class ExportKey:
    """A key that belongs to a multi-file export: a part, or the manifest itself."""

    manifest_key: str
    period: str  # YYYY-MM
    is_manifest: bool


def export_key(key: str) -> ExportKey | None:
    """The export a key belongs to; None for a plain single file."""
    if match := _DATA_MANIFEST.match(key):
        return _export(key, match, is_manifest=True)
    if match := _DATA_PART.match(key):
        manifest = f"{match['root']}{match['export']}/metadata/BILLING_PERIOD={match['year']}-{match['month']}/"
        return _export(f"{manifest}{match['export']}-Manifest.json", match, is_manifest=False)
    if match := _CUR_MANIFEST.match(key):
        return _export(key, match, is_manifest=True)
    if match := _CUR_PART.match(key) or _CUR_MANIFEST_COPY.match(key):
        period_folder = key.rsplit("/", 2)[0]
        return _export(f"{period_folder}/{match['report']}-Manifest.json", match, is_manifest=False)
    return None


def _export(manifest_key: str, match: re.Match[str], *, is_manifest: bool) -> ExportKey | None:
    if not in_bounds(int(match["year"])):
        return None
    return ExportKey(manifest_key, f"{match['year']}-{match['month']}", is_manifest)


def manifest_parts(raw: bytes, bucket: str) -> list[tuple[str, str]]:
    """The (bucket, key) of every part a manifest names, in its order."""
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestInvalid(f"the manifest is not JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise ManifestInvalid("the manifest is not a JSON object")
    parts: list[tuple[str, str]] = []
    if isinstance(manifest.get("dataFiles"), list):
        for uri in manifest["dataFiles"]:
            if not isinstance(uri, str) or not uri.startswith("s3://") or "/" not in uri[5:]:
                raise ManifestInvalid(f"dataFiles holds {uri!r}, not an s3:// URI")
            part_bucket, part_key = uri[5:].split("/", 1)
            parts.append((part_bucket, part_key))
    elif isinstance(manifest.get("reportKeys"), list):
        report_bucket = manifest.get("bucket") if isinstance(manifest.get("bucket"), str) else bucket
        for key in manifest["reportKeys"]:
            if not isinstance(key, str) or not key:
                raise ManifestInvalid(f"reportKeys holds {key!r}, not a key")
            parts.append((str(report_bucket), key))
    else:
        raise ManifestInvalid("the manifest lists no parts (neither dataFiles nor reportKeys)")
    if not parts:
        raise ManifestInvalid("the manifest lists no parts")
    if len(parts) > MAX_PARTS:
        raise ManifestInvalid(f"the manifest lists {len(parts)} parts, more than {MAX_PARTS}")
    if len(set(parts)) != len(parts):
        raise ManifestInvalid("the manifest lists a part twice")
    return parts
