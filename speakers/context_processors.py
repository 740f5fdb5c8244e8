from django.utils.functional import SimpleLazyObject

from speakers.models import Speaker


def own_profile(request):
    """Tell templates whether the signed-in person has a speaker profile (the header links it).

    Lazy: the query runs only where a template asks, which the header does for signed-in
    people alone, so pages for visitors cost nothing more.
    """
    user = getattr(request, "user", None)

    def has_profile():
        return bool(user and user.is_authenticated and Speaker.objects.filter(user=user).exists())

    return {"has_speaker_profile": SimpleLazyObject(has_profile)}
