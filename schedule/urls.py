from django.urls import path, register_converter

from schedule import call_views, review_views, views


class ProposalCode:
    """A proposal's code as it is made (schedule.proposals.CODE_ALPHABET), and nothing else."""

    regex = "[A-Z0-9]{1,12}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ProposalCode, "proposal")

app_name = "schedule"

urlpatterns = [
    path("talks/", views.talk_list, name="talk_list"),
    path("talks/<slug:slug>/", views.talk_detail, name="talk_detail"),
    path("talks/<slug:slug>/edit/", views.talk_edit, name="talk_edit"),
    path("talks/<slug:slug>.ics", views.talk_ics, name="talk_ics"),
    path("speakers/<slug:slug>.ics", views.speaker_ics, name="speaker_ics"),
    path("schedule/", views.schedule, name="schedule"),
    path("schedule.ics", views.schedule_ics, name="schedule_ics"),
    path("schedule.xml", views.schedule_xml, name="schedule_xml"),
    path("schedule.json", views.schedule_json, name="schedule_json"),
    # The addresses that tools guess from pretalx.
    path("schedule/export/schedule.ics", views.schedule_ics, name="pretalx_ics"),
    path("schedule/export/schedule.xml", views.schedule_xml, name="pretalx_xml"),
    path("schedule/export/schedule.json", views.schedule_json, name="pretalx_json"),
    # The call for proposals.
    path("call/", call_views.call_detail, name="call"),
    path("call/submit/", call_views.proposal_submit, name="proposal_submit"),
    path("call/proposals/", call_views.proposal_list, name="proposal_list"),
    path("call/proposals/<proposal:code>/", call_views.proposal_detail, name="proposal_detail"),
    path("call/proposals/<proposal:code>/edit/", call_views.proposal_edit, name="proposal_edit"),
    path(
        "call/proposals/<proposal:code>/withdraw/",
        call_views.proposal_withdraw,
        name="proposal_withdraw",
    ),
    path(
        "call/proposals/<proposal:code>/coauthors/",
        call_views.proposal_coauthors,
        name="proposal_coauthors",
    ),
    path(
        "call/proposals/<proposal:code>/confirm/",
        call_views.proposal_confirm,
        name="proposal_confirm",
    ),
    # Reviewers.
    path("organisers/reviews/", review_views.review_list, name="review_list"),
    path(
        "organisers/reviews/<proposal:code>/",
        review_views.review_proposal,
        name="review_proposal",
    ),
]
