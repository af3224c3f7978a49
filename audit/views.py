from django.http import HttpResponse

from core.http import AuthenticatedHttpRequest


def access_log_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return HttpResponse("todo")
