# PostgreSQL only: the audit table refuses UPDATE, DELETE and TRUNCATE at the database (LG-3),
# whoever asks. The one exception is `manage.py purge_audit`, which sets shouhu.audit_purge in
# its transaction and may then delete rows older than 185 days, never younger ones (LG-4).
# The application's own role should not even hold UPDATE, DELETE or TRUNCATE on the table:
# docs/security.md gives the GRANT statements.

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('shouhu.audit_purge', true) = 'on' THEN
        IF OLD.at < now() - interval '185 days' THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION '审计日志只能追加：拒绝 % %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_append_only();
CREATE TRIGGER audit_auditevent_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_auditevent_no_update_delete ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):

    dependencies = [("audit", "0003_chain_existing_rows")]

    operations = [migrations.RunPython(forward, backward)]
