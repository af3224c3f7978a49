from django.http import HttpResponse

from core.http import AuthenticatedHttpRequest


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    return HttpResponse("todo")


def ledger(request: AuthenticatedHttpRequest) -> HttpResponse:
    return HttpResponse("todo")
