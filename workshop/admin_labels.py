"""Every admin field with an accessible name.

Django's admin names some fields only by position: a tabular inline puts each field's label in
its column's header, a list-editable column likewise, and a split date-time field labels its two
boxes "Date:" and "Time:" as plain text. Screen readers then announce "edit text" and axe reports
unlabelled fields. ``LabelledFieldsMixin`` gives each such box an ``aria-label`` made of the
field's label, through the admin's documented hooks; the site adds it to every model admin it
registers (workshop/admin_site.py), so no admin class can forget it.
"""

from django.contrib import admin
from django.contrib.admin import widgets


def name_widget(widget, label):
    """Name ``widget`` (each part of a multi-part one) ``label`` for assistive technology."""
    if isinstance(widget, widgets.RelatedFieldWidgetWrapper):
        # The wrapper's attrs are not its widget's once a form has copied its fields.
        name_widget(widget.widget, label)
        return
    parts = getattr(widget, "widgets", None)
    if parts is None:
        widget.attrs.setdefault("aria-label", label)
        return
    if isinstance(widget, widgets.AdminSplitDateTime):
        names = [f"{label}, date", f"{label}, time"]
    else:
        names = [f"{label}, part {number}" for number in range(1, len(parts) + 1)]
    for part, name in zip(parts, names, strict=True):
        part.attrs.setdefault("aria-label", name)


def name_form_fields(form, *, split_only=False, row=""):
    """Name the fields of ``form`` by their labels (all, or the split date-times only).

    ``row`` says which row of a table the form is, so that each box's name is its own
    ("Title (talk link 2)"), not one of many boxes all called "Title".
    """
    for name, field in form.fields.items():
        if split_only and not isinstance(field.widget, widgets.AdminSplitDateTime):
            continue
        label = str(field.label or name.replace("_", " ").capitalize())
        name_widget(field.widget, f"{label} ({row})" if row else label)


def labelled_formset(formset_class, *, split_only=False, row_name):
    """Return ``formset_class`` naming each form's fields, its delete box included.

    Done per form as the formset adds its fields: the delete box is added then, and each form
    holds its own copies of the fields, so nothing is shared between forms or requests.
    ``row_name(form, index)`` names a form's row (``index`` is None for the blank template row).
    """

    class LabelledFormSet(formset_class):
        def add_fields(self, form, index):
            super().add_fields(form, index)
            row = row_name(form, index)
            name_form_fields(form, split_only=split_only, row=row)
            if "DELETE" in form.fields:
                name_widget(form.fields["DELETE"].widget, f"Delete ({row})")

    LabelledFormSet.__name__ = formset_class.__name__
    return LabelledFormSet


def inline_row_name(inline):
    """Name an inline's rows after what they hold: "talk link 1", "talk link 2", "new talk link"."""
    noun = str(inline.verbose_name)
    return lambda form, index: f"new {noun}" if index is None else f"{noun} {index + 1}"


def changelist_row_name(form, index):
    """Name a list's editable row after its object."""
    return str(form.instance) if form.instance.pk else f"row {(index or 0) + 1}"


class LabelledFieldsMixin:
    """Name the admin's unlabelled boxes: split date-times, list-editable and tabular cells."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(formfield.widget, widgets.AdminSplitDateTime):
            name_widget(formfield.widget, str(formfield.label))
        return formfield

    def get_changelist_formset(self, request, **kwargs):
        formset = super().get_changelist_formset(request, **kwargs)
        return labelled_formset(formset, row_name=changelist_row_name)

    def get_formsets_with_inlines(self, request, obj=None):
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            tabular = isinstance(inline, admin.TabularInline)
            row_name = inline_row_name(inline)
            yield labelled_formset(formset, split_only=not tabular, row_name=row_name), inline


class BlankNamedValuesFilter(admin.AllValuesFieldListFilter):
    """A filter by a text field's values where a blank value reads "None", not a blank link."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "":
                choice["display"] = "None"
            yield choice


def labelled(admin_class):
    """Return ``admin_class`` with ``LabelledFieldsMixin`` first (the class itself if it has it)."""
    if issubclass(admin_class, LabelledFieldsMixin):
        return admin_class
    return type(
        admin_class.__name__,
        (LabelledFieldsMixin, admin_class),
        {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
    )
