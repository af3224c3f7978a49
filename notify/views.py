"""Pages of the notify app: the inbox, its settings, and the supervisor's sent log.

Each view: gate → form → service → redirect or render. A notification or delivery outside
the user's reach answers 404 exactly like a missing one.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import EventType
from audit.permissions import require
from audit.services import access_log
from core.http import AuthenticatedHttpRequest
from notify import selectors
from notify.forms import RecipientAddressForm, SentLogFilterForm
from notify.models import validate_site_path
from notify.services import (
    delivery_retry,
    delivery_retryable,
    notification_mark_read,
    notifications_mark_all_read,
    recipient_address,
    recipient_address_update,
)

SENT_LOG_ONLY = "仅儿童督导员和县民政管理员可查看通知发送记录"
RETRY_ONLY = "仅县民政管理员可重新发送通知"


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = selectors.inbox_page(request.user, before=_uuid(request.GET.get("before")))
    context = {
        "page": page,
        "hidden": selectors.hidden_in_inbox(request.user, page.rows),
        "can_read_sent_log": selectors.can_read_sent_log(request.user),
    }
    return render(request, "notify/inbox.html", context)


@login_required
@require_GET
def notification_open(request: AuthenticatedHttpRequest, notification_id: uuid.UUID) -> HttpResponse:
    """Mark read and go where the notification points (that page checks access itself)."""
    notification = selectors.own_notification(request.user, notification_id)
    if notification is None:
        raise Http404("未找到该通知")
    notification_mark_read(notification=notification)
    try:
        validate_site_path(notification.link)
    except ValidationError:
        return redirect("notify:inbox")
    return redirect(notification.link or "notify:inbox")


@login_required
@require_POST
def inbox_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(user=request.user)
    messages.success(request, f"已将 {count} 条通知标为已读。" if count else "没有未读通知。")
    return redirect("notify:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def inbox_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    address = recipient_address(request.user)
    form = RecipientAddressForm(request.POST or None, address=address)
    if request.method == "POST" and form.is_valid():
        phone, email = form.values()
        recipient_address_update(user=request.user, phone=phone, email=email)
        messages.success(request, "通知接收设置已保存。")
        return redirect("notify:settings")
    context = {
        "form": form,
        "has_phone": bool(address and address.phone),
        "has_email": bool(address and address.email),
        "account_email": bool(request.user.email),
    }
    return render(request, "notify/settings.html", context)


@login_required
@require_GET
@require(selectors.can_read_sent_log, SENT_LOG_ONLY)
def sent_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What was sent to whom, when, by which channel, and how it ended (filter by state)."""
    form = SentLogFilterForm(request.GET or None)
    filters = {"state": "", "channel": ""}
    if form.is_valid():
        filters = {"state": form.cleaned_data["state"], "channel": form.cleaned_data["channel"]}
    page = selectors.sent_log_page(
        request.user,
        state=filters["state"],
        channel=filters["channel"],
        before=_uuid(request.GET.get("before")),
    )
    access_log(
        request=request,
        action=EventType.LIST,
        object_type="notification",
        detail={**filters, "count": len(page.rows)},
    )
    can_retry = selectors.can_retry(request.user)
    context = {
        "form": form,
        "page": page,
        "filters": filters,
        "can_retry": can_retry,
        "retryable": {d.pk for d in page.rows if can_retry and delivery_retryable(d)},
    }
    return render(request, "notify/sent.html", context)


@login_required
@require_POST
@require(selectors.can_retry, RETRY_ONLY)
def delivery_retry_view(request: AuthenticatedHttpRequest, delivery_id: uuid.UUID) -> HttpResponse:
    delivery = selectors.visible_delivery(request.user, delivery_id)
    if delivery is None:
        raise Http404("未找到该发送记录")
    try:
        delivery_retry(by=request.user, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已重新安排发送。")
    return redirect("notify:sent")
