from django.urls import path

from accounts import views

urlpatterns = [path("", views.account_details, name="account_details")]
