"""The pages every check walks: public pages and the main signed-in ones.

Each page has a stable name (used in test ids, file names and screenshots), a way to find its
address in the demo content, who is signed in, the status it answers, and whether its layout is
checked at phone and desktop widths. Add a page here when a feature lands.
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.urls import reverse

# allauth's own bare templates stand in until the site's account templates exist (issue 3).
SITE_ACCOUNT_TEMPLATES = "account/login.html"


@dataclass(frozen=True)
class SitePage:
    name: str
    # Return the path in the demo content (given the audit's people and order), or None when
    # that content does not exist yet.
    locate: object
    user: str | None = None
    status: int = 200
    responsive: bool = False
    # A template of the site's own that must exist before the page counts as built.
    template: str | None = None
    # Text the page must contain, to know it shows what it should (not a placeholder).
    shows: str | None = None

    def not_built_reason(self):
        """Return why the page is not the site's own yet, or None."""
        if self.template and not (Path(settings.BASE_DIR) / "templates" / self.template).exists():
            return f"templates/{self.template} does not exist yet (allauth's bare default)"
        return None


def fixed(path):
    """Locate a page at a fixed path."""
    return lambda site: path


def named(url_name, *args):
    """Locate a page by URL name."""
    return lambda site: reverse(url_name, args=args)


def first_talk(site):
    """Locate the first published talk of the demo (by time)."""
    from schedule.models import Talk

    talk = Talk.objects.published().filter(slot__isnull=False).order_by("slot__start").first()
    return talk.get_absolute_url() if talk else None


def talk_speaker(site):
    """Locate the public page of the first talk's first speaker."""
    from schedule.models import Talk

    talk = Talk.objects.published().filter(slot__isnull=False).order_by("slot__start").first()
    speaker = talk.speakers.order_by("name").first() if talk else None
    return speaker.get_absolute_url() if speaker else None


def own_talk_edit(site):
    """Locate the edit page of a talk of the signed-in speaker."""
    from schedule.models import Talk

    talk = (
        Talk.objects.open_to_speaker_edits()
        .filter(speakers__user=site.people["speaker"])
        .order_by("title")
        .first()
    )
    return reverse("schedule:talk_edit", args=[talk.slug]) if talk else None


def own_proposal(url_name):
    """Locate a page of the proposal the signed-in speaker sent to the demo call."""
    return lambda site: reverse(url_name, args=[site.proposal.code]) if site.proposal else None


def checkout(site):
    """Locate the checkout form for one ticket of the first paid type on sale."""
    from tickets.models import TicketType

    paid = TicketType.objects.filter(visible=True, price__gt=0).order_by("position").first()
    return f"{reverse('tickets:checkout')}?qty_{paid.id}=1" if paid else None


def order(site):
    """Locate the order page of the demo order made for the checks."""
    return site.order.get_absolute_url() if site.order else None


def invoice_order(site):
    """Locate the page of the demo order awaiting its bank transfer."""
    return site.invoice_order.get_absolute_url() if site.invoice_order else None


def claim_link(site):
    """Locate the link that adds the attendee's guest order to their account."""
    from tickets.services.order_links import claim_token

    if site.guest_order is None:
        return None
    person = site.people["attendee"]
    token = claim_token(user=person, email=person.email, orders=[site.guest_order])
    return reverse("tickets:claim_orders", args=[token])


def billing_document(kind):
    """Locate the invoice or the credit note of the demo's cancelled invoice order."""

    def locate(site):
        order = site.cancelled_order
        documents = [d for d in order.billing_documents() if d.kind == kind] if order else []
        if not documents:
            return None
        return reverse("tickets:document", args=[order.code, order.secret, documents[0].number])

    return locate


PAGES = [
    SitePage("home", named("workshop:home"), responsive=True),
    SitePage("code-of-conduct", named("workshop:page", "code-of-conduct")),
    SitePage("resources", named("workshop:page", "resources")),
    SitePage("not-found", fixed("/no-such-page-here/"), status=404),
    SitePage("login", named("account_login"), template=SITE_ACCOUNT_TEMPLATES),
    SitePage("signup", named("account_signup"), template=SITE_ACCOUNT_TEMPLATES),
    SitePage("password-reset", named("account_reset_password"), template=SITE_ACCOUNT_TEMPLATES),
    SitePage("talks", named("schedule:talk_list")),
    SitePage("talk", first_talk, responsive=True),
    SitePage("schedule", named("schedule:schedule"), responsive=True),
    SitePage("speakers", named("speakers:list"), responsive=True),
    SitePage("speaker", talk_speaker),
    SitePage(
        "my-speaker-profile",
        named("speakers:my_profile"),
        user="speaker",
        responsive=True,
        shows="Save profile",
    ),
    SitePage("talk-edit", own_talk_edit, user="speaker", shows='name="abstract"'),
    SitePage("call", named("schedule:call"), responsive=True, shows="Submit a proposal"),
    SitePage(
        "proposal-submit",
        named("schedule:proposal_submit"),
        user="speaker",
        responsive=True,
        shows="Submit the proposal",
    ),
    SitePage("my-proposals", named("schedule:proposal_list"), user="speaker", shows="Submitted"),
    SitePage(
        "proposal",
        own_proposal("schedule:proposal_detail"),
        user="speaker",
        responsive=True,
        shows="Edit the proposal",
    ),
    SitePage("proposal-edit", own_proposal("schedule:proposal_edit"), user="speaker", shows="Save"),
    SitePage(
        "proposal-coauthors",
        own_proposal("schedule:proposal_coauthors"),
        user="speaker",
        responsive=True,
        shows="Send the invitation",
    ),
    SitePage(
        "proposal-withdraw",
        own_proposal("schedule:proposal_withdraw"),
        user="speaker",
        shows="Withdraw the proposal",
    ),
    SitePage("tickets", named("tickets:ticket_list"), responsive=True),
    SitePage("checkout", checkout, responsive=True),
    SitePage("order", order, responsive=True, shows='<svg class="qr"'),
    SitePage("invoice-order", invoice_order, responsive=True, shows="Bank details"),
    SitePage("invoice", billing_document("Invoice"), responsive=True, shows="Cancelled by"),
    SitePage(
        "credit-note", billing_document("Credit note"), responsive=True, shows="Total credited"
    ),
    SitePage("resend-links", named("tickets:resend_links")),
    SitePage(
        "my-tickets",
        named("tickets:my_tickets"),
        user="attendee",
        responsive=True,
        shows='class="my-orders"',
    ),
    SitePage("claim-orders", claim_link, user="attendee", responsive=True, shows="Add 1 order to"),
    SitePage(
        "account-email", named("account_email"), user="attendee", template=SITE_ACCOUNT_TEMPLATES
    ),
    SitePage("two-factor", named("mfa_index"), user="attendee"),
    SitePage("your-data", named("privacy:data"), user="attendee", shows="Delete my account"),
    SitePage("privacy", named("workshop:page", "privacy"), shows="Your data"),
]

PAGE_NAMES = [page.name for page in PAGES]
RESPONSIVE_NAMES = [page.name for page in PAGES if page.responsive]
WIDTHS = [375, 1280]
