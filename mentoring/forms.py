from django import forms

from accounts.forms import SchemeChoiceFields, add_acceptance_fields


class SchemeJoinForm(SchemeChoiceFields):
    pass


class DocumentsAcceptForm(forms.Form):
    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        self.versions = versions
        add_acceptance_fields(self, versions)
