"""Pages that change who reaches an order: a new secret link, and claiming orders for an account."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tickets.services import order_links
from tickets.views import secret_link
from workshop.ratelimit import rate_limited
from workshop.security import private_page


@require_POST
@rate_limited("new-order-link", per_ip="10/h")
@secret_link
def new_link(request, order):
    """Replace the order's secret link and e-mail the new one; this address stops working."""
    actor = request.user if request.user.is_authenticated else None
    reason = "asked for on the order page"
    order = order_links.rotate_secret(order=order, reason=reason, actor=actor)
    return render(request, "tickets/order_new_link.html", {"order": order})


@require_POST
@login_required
@rate_limited("claim-orders", per_ip="10/h", per_key="3/h", key=lambda r: str(r.user.pk))
def request_claim_links(request):
    """E-mail each verified address of the account a link to add the orders bought with it."""
    order_links.send_claim_links(user=request.user)
    messages.success(
        request,
        "If orders were bought without signing in with one of your verified addresses, that "
        "address has been sent a link to add them to this account.",
    )
    return redirect("tickets:my_tickets")


@private_page
@login_required
@require_http_methods(["GET", "POST"])
def claim(request, token):
    """Show which orders a claim link adds to the signed-in account, and add them when asked."""
    try:
        orders = list(order_links.read_claim(token=token, user=request.user))
        if request.method == "POST":
            added = order_links.claim_orders(token=token, user=request.user)
            messages.success(request, f"Added {len(added)} order(s) to your account.")
            return redirect("tickets:my_tickets")
    except order_links.ClaimError as error:
        context = {"refused": str(error)}
        return render(request, "tickets/claim_orders.html", context, status=error.status)
    return render(request, "tickets/claim_orders.html", {"orders": orders, "token": token})
