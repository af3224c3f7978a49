# Chain the rows written before the hash chain existed, in id order (LG-3). A separate
# migration from the schema change, so that PostgreSQL runs the UPDATEs in their own
# transaction.

import datetime as dt
import hashlib
import ipaddress
import json

from django.db import migrations

GENESIS = "0" * 64


def _canonical(row):
    # Must match audit.models.AuditEvent.canonical (the model itself is not importable here).
    fields = {
        "at": row.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "user": str(row.user_id) if row.user_id else "",
        "username": row.username,
        "roles": row.roles,
        "ip": ipaddress.ip_address(row.ip).compressed if row.ip else "",
        "action": row.action,
        "outcome": row.outcome,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "request_id": row.request_id,
        "reason": row.reason,
        "detail": row.detail,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def chain_existing_rows(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    previous = GENESIS
    for row in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        digest = hashlib.sha256(_canonical(row) + previous.encode()).hexdigest()
        AuditEvent.objects.filter(pk=row.pk).update(prev_hash=previous, hash=digest)
        previous = digest



class Migration(migrations.Migration):

    dependencies = [("audit", "0002_auditevent")]

    operations = [migrations.RunPython(chain_existing_rows, migrations.RunPython.noop)]
