"""Sales fragments on customer pages (the sales pages themselves come with the sales
pipeline). Thin: reads through sales.selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from guanxi.core.errors import NotFound
from guanxi.customers import selectors as customer_selectors
from guanxi.sales.selectors import customer_business


@login_required
@require_GET
def customer_business_section(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """The 合同与订单 card of a customer page: the latest contracts and orders in scope."""
    try:
        customer = customer_selectors.customer_get(user=request.user, pk=customer_pk)
    except NotFound as exc:
        raise Http404() from exc
    context = {
        "customer": customer,
        "business": customer_business(user=request.user, customer=customer),
    }
    return render(request, "sales/_customer_business.html", context)
