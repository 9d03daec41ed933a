"""Sign-in, sign-out and the user's own security pages (mounted at the site root)."""

from django.urls import path

from guanxi.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.LoginVerifyView.as_view(), name="login_verify"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/2fa/", views.TwoFactorView.as_view(), name="two_factor"),
    path("account/sessions/", views.SessionsView.as_view(), name="my_sessions"),
    path(
        "account/sessions/others/end/",
        views.SessionsEndOthersView.as_view(),
        name="sessions_end_others",
    ),
    path(
        "account/sessions/<str:session_id>/end/",
        views.SessionEndView.as_view(),
        name="session_end",
    ),
]
