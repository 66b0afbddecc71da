from django.urls import path

from training.views import certificates, courses, library, onboarding

app_name = "training"
urlpatterns = [
    # courses, lessons, quizzes, my learning
    path("training/courses/", courses.course_list, name="course_list"),
    path("training/courses/<slug:slug>/", courses.course_detail, name="course"),
    path("training/courses/<slug:slug>/enroll/", courses.course_enroll, name="course_enroll"),
    path(
        "training/courses/<slug:slug>/enroll/people/",
        courses.course_enroll_people,
        name="course_enroll_people",
    ),
    path("training/courses/<slug:slug>/lessons/<int:pk>/", courses.lesson_detail, name="lesson"),
    path(
        "training/courses/<slug:slug>/lessons/<int:pk>/done/",
        courses.lesson_complete,
        name="lesson_complete",
    ),
    path(
        "training/courses/<slug:slug>/lessons/<int:pk>/files/<int:file_pk>/",
        courses.lesson_attachment,
        name="lesson_attachment",
    ),
    path("training/courses/<slug:slug>/quizzes/<int:pk>/", courses.quiz_detail, name="quiz"),
    path(
        "training/courses/<slug:slug>/quizzes/<int:pk>/submit/",
        courses.quiz_submit,
        name="quiz_submit",
    ),
    path("training/learning/", courses.my_learning, name="my_learning"),
    # certificates and the managers' training status
    path(
        "training/certificates/<int:pk>/",
        certificates.certificate_detail,
        name="certificate",
    ),
    path(
        "training/certificates/verify/",
        certificates.certificate_verify,
        name="certificate_verify",
    ),
    path("training/status/", certificates.TrainingStatusView.as_view(), name="status"),
    path(
        "training/status/export.csv",
        certificates.TrainingStatusView.as_view(export=True),
        name="status_export",
    ),
    # onboarding
    path("training/onboarding/", onboarding.onboarding, name="onboarding"),
    path(
        "training/onboarding/partners/<int:pk>/",
        onboarding.onboarding_account,
        name="onboarding_account",
    ),
    path(
        "training/onboarding/steps/<int:pk>/tick/",
        onboarding.onboarding_tick,
        name="onboarding_tick",
    ),
    # library
    path("training/resources/", library.resource_list, name="resource_list"),
    path("training/resources/<int:pk>/", library.resource_detail, name="resource"),
    path(
        "training/resources/<int:pk>/download/",
        library.resource_download,
        name="resource_download",
    ),
    path("training/faq/", library.article_list, name="article_list"),
    path("training/faq/<slug:slug>/", library.article_detail, name="article"),
]
