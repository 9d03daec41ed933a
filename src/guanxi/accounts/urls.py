"""Sign-in and sign-out (mounted at the site root: /login/, /logout/)."""

from django.urls import path

from guanxi.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
