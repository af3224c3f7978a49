from django.urls import path

from accounts import admin_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("otp/", views.otp_verify, name="otp_verify"),
    path("otp/enrol/", views.otp_enrol, name="otp_enrol"),
    path("password/", views.password_change, name="password_change"),
    path("security/", views.security, name="security"),
    path("policy/", admin_views.policy, name="policy"),
    path("manage/", admin_views.manage_users, name="manage_users"),
    path("manage/new/", admin_views.manage_user_create, name="manage_user_create"),
    path("manage/<uuid:user_id>/", admin_views.manage_user, name="manage_user"),
    path("manage/<uuid:user_id>/grant/", admin_views.manage_grant, name="manage_grant"),
    path("manage/<uuid:user_id>/revoke/", admin_views.manage_revoke, name="manage_revoke"),
    path("manage/<uuid:user_id>/disable/", admin_views.manage_disable, name="manage_disable"),
    path("manage/<uuid:user_id>/enable/", admin_views.manage_enable, name="manage_enable"),
    path("manage/<uuid:user_id>/sessions/end/", admin_views.manage_sessions_end, name="manage_sessions_end"),
    path("manage/<uuid:user_id>/otp/reset/", admin_views.manage_otp_reset, name="manage_otp_reset"),
    path(
        "manage/<uuid:user_id>/password/reset/",
        admin_views.manage_password_reset,
        name="manage_password_reset",
    ),
]
