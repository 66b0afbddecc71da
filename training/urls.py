from django.urls import path  # noqa: F401

app_name = "training"
urlpatterns = [
    # courses, lessons, quizzes, my learning
    # certificates and the managers' training status
]
