# The access log becomes the single audit table (LG-1…LG-4): AccessLog is renamed to
# AuditEvent and gains outcome, request ID, reason and the hash chain columns (0003 chains the
# existing rows); Alert (OP-2) and EmergencyAccess (AC-8) join it.

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

GENESIS = "0" * 64


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("geo", "0001_initial"),
        ("registry", "0002_pattern_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel(old_name="AccessLog", new_name="AuditEvent"),
        migrations.AlterModelOptions(
            name="auditevent",
            options={"ordering": ["-at", "-id"], "verbose_name": "审计日志", "verbose_name_plural": "审计日志"},
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="时间"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(choices=[('login', '登录'), ('login_failed', '登录失败'), ('logout', '退出登录'), ('lockout', '账号锁定'), ('view', '查看档案'), ('search', '搜索'), ('list', '浏览台账'), ('print', '打印'), ('export', '导出'), ('reveal', '查看完整号码'), ('api_read', '接口读取'), ('create', '新建'), ('update', '修改'), ('delete', '删除'), ('denied', '拒绝访问'), ('permission', '权限变更'), ('account', '账号变更'), ('config', '配置变更'), ('emergency_access', '紧急查看'), ('alert', '告警'), ('checkpoint', '日志清理检查点')], max_length=32, verbose_name='事件类型'),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="outcome",
            field=models.CharField(choices=[('success', '成功'), ('failure', '失败'), ('denied', '拒绝')], default='success', max_length=8, verbose_name='结果'),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(blank=True, default="", max_length=32, verbose_name="请求编号"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="reason",
            field=models.CharField(blank=True, default="", max_length=500, verbose_name="理由"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default=GENESIS, max_length=64, verbose_name="前一条哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", max_length=64, verbose_name="哈希"),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["action", "user", "at"], name="auditevent_action_user_at"),
        ),
        migrations.CreateModel(
            name="Alert",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="时间")),
                ("kind", models.CharField(choices=[('denials', '短时间内多次被拒绝访问'), ('emergency_access', '紧急查看（破窗访问）'), ('lockout', '账号被锁定'), ('export_volume', '大批量导出')], max_length=32, verbose_name='类型')),
                ("subject_username", models.CharField(blank=True, max_length=150, verbose_name="涉及用户名")),
                ("recipient_roles", models.CharField(max_length=200, verbose_name="接收角色")),
                ("message", models.CharField(max_length=300, verbose_name="内容")),
                ("child", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="registry.child", verbose_name="档案")),
                ("region", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="geo.region", verbose_name="区划")),
                ("subject", models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="涉及用户")),
                ("event", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="audit.auditevent", verbose_name="审计记录")),
            ],
            options={"verbose_name": "告警", "verbose_name_plural": "告警", "ordering": ["-at"]},
        ),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(fields=["kind", "subject", "at"], name="alert_kind_subject_at"),
        ),
        migrations.CreateModel(
            name="EmergencyAccess",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("reason", models.CharField(max_length=500, verbose_name="理由")),
                ("granted_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="开始时间")),
                ("expires_at", models.DateTimeField(verbose_name="到期时间")),
                ("child", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="registry.child", verbose_name="档案")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="用户")),
            ],
            options={"verbose_name": "紧急查看授权", "verbose_name_plural": "紧急查看授权"},
        ),
        migrations.AddIndex(
            model_name="emergencyaccess",
            index=models.Index(fields=["user", "expires_at"], name="emergency_user_expires"),
        ),
        migrations.AddConstraint(
            model_name="emergencyaccess",
            constraint=models.CheckConstraint(condition=models.Q(("expires_at__gt", models.F("granted_at"))), name="emergency_expires_after_grant"),
        ),
    ]
