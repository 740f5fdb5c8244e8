"""Every write that touches money, seats or an order's state, one module per concept.

capacity (seats, their locks, the cap on unpaid seats), pricing (quotes and vouchers),
lifecycle (placing an order and every move of its status), stripe_checkout (card payments:
sessions, fulfilment, refunds), stripe_events (webhook events), invoices, checkin, messages.
Import each by its own name; this package re-exports nothing.
"""
