"""Admin of the training app: authoring (courses with their lessons and quizzes, questions with
their choices) and, read-only, what people did (enrollments, progress, attempts). Certificates
are issued by passing a course; here they are looked up by number and revoked with a reason
(through ``training.services.revoke_certificate``, which records it in the company's history).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.shortcuts import render

from prm.admin import ReadOnlyAdminMixin
from training import services
from training.forms import validate_resource_file
from training.models import (
    Article,
    Certificate,
    ChecklistItem,
    ChecklistStep,
    ChecklistTemplate,
    Choice,
    Course,
    Enrollment,
    Lesson,
    LessonAttachment,
    LessonProgress,
    Question,
    QuestionKind,
    Quiz,
    QuizAttempt,
    Resource,
    ResourceDownload,
    ResourceTag,
    StepCheck,
)

# --- authoring ----------------------------------------------------------------------------------


class LessonInline(admin.StackedInline):
    model = Lesson
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0
    fields = ("position", "title", "minutes", "video_url", "body")
    ordering = ("position", "pk")
    show_change_link = True


class CheckedUploadForm(forms.ModelForm):
    """A model form whose ``file`` upload is checked for type (extension, declared type, first
    bytes) and size, and whose ``file_size`` is kept: the library's resources and lessons' files."""

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is not None and "file" in self.changed_data:
            validate_resource_file(upload)
        return upload

    def save(self, commit=True):
        if "file" in self.changed_data and self.cleaned_data.get("file") is not None:
            self.instance.file_size = self.cleaned_data["file"].size
        return super().save(commit)


class LessonAttachmentForm(CheckedUploadForm):
    class Meta:
        model = LessonAttachment
        fields = ("position", "title", "file")


class LessonAttachmentInline(admin.TabularInline):
    model = LessonAttachment
    form = LessonAttachmentForm
    extra = 0
    ordering = ("position", "pk")


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    """A lesson on its own page, for its files (the course page lists lessons as inlines, and
    inlines don't nest): reached by the lesson's "Change" link on its course."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["title", "course", "position", "minutes"]
    list_filter = ["course"]
    search_fields = ["title", "course__title"]
    list_select_related = ["course"]
    ordering = ["course", "position", "pk"]
    fields = ("course", "position", "title", "minutes", "video_url", "body")
    inlines = [LessonAttachmentInline]


class QuizInline(admin.TabularInline):
    model = Quiz
    extra = 0
    fields = ("title", "lesson", "pass_mark", "max_attempts", "shuffle")
    show_change_link = True

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # A quiz of one lesson picks among this course's lessons only.
        field = formset.form.base_fields.get("lesson")
        if field is not None:
            field.queryset = Lesson.objects.filter(course=obj) if obj else Lesson.objects.none()
        return formset


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "published",
        "is_certification",
        "product_family",
        "duration_minutes",
        "position",
    ]
    list_filter = ["published", "is_certification", "product_family", "tiers", "required_for"]
    search_fields = ["title", "summary", "product_family"]
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ["audience", "tiers", "required_for"]
    ordering = ["position", "title", "pk"]
    inlines = [LessonInline, QuizInline]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "duration_minutes", "position"]}),
        ("Who takes it", {"fields": ["audience", "tiers", "required_for", "published"]}),
        ("Certification", {"fields": ["is_certification", "product_family", "validity_days"]}),
    ]

    @admin.action(description="Publish the selected courses")
    def publish(self, request, queryset):
        count = queryset.update(published=True)
        self.message_user(
            request, f"{count} course(s) published: partners of their tiers see them."
        )

    @admin.action(description="Unpublish the selected courses")
    def unpublish(self, request, queryset):
        count = queryset.update(published=False)
        self.message_user(request, f"{count} course(s) unpublished: partners no longer see them.")


class ChoiceInlineFormSet(BaseInlineFormSet):
    """A one-answer question has exactly one correct choice; a several-answers one at least one."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        correct = sum(1 for data in kept if data.get("is_correct"))
        kind = self.instance.kind
        if len(kept) < 2:
            raise ValidationError("Give the question at least two choices.")
        if kind == QuestionKind.SINGLE and correct != 1:
            raise ValidationError(
                "A one-answer question needs exactly one correct choice "
                f"(this one has {correct}). Tick one choice as correct, or make the question "
                "“Several answers”."
            )
        if kind == QuestionKind.MULTIPLE and correct < 1:
            raise ValidationError(
                "A several-answers question needs at least one correct choice: tick the right ones."
            )


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceInlineFormSet
    extra = 0
    min_num = 2
    fields = ("position", "text", "is_correct")
    ordering = ("position", "pk")


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ("position", "text", "kind", "explanation")
    ordering = ("position", "pk")
    show_change_link = True


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "lesson", "pass_mark", "max_attempts", "shuffle"]
    list_filter = ["course"]
    search_fields = ["title", "course__title"]
    list_select_related = ["course", "lesson"]
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "quiz", "kind", "position"]
    list_filter = ["kind", "quiz__course"]
    search_fields = ["text", "quiz__title"]
    list_select_related = ["quiz"]
    inlines = [ChoiceInline]


# --- what people did (read-only) ----------------------------------------------------------------


class ReadOnlyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyRecordAdmin):
    list_display = ["user", "course", "status", "enrolled_at", "completed_at"]
    list_filter = ["status", "course"]
    search_fields = ["user__email", "user__last_name", "course__title"]
    list_select_related = ["user", "course"]


@admin.register(LessonProgress)
class LessonProgressAdmin(ReadOnlyRecordAdmin):
    list_display = ["enrollment", "lesson", "completed_at"]
    search_fields = ["enrollment__user__email", "lesson__title"]
    list_select_related = ["enrollment__user", "enrollment__course", "lesson"]


@admin.register(QuizAttempt)
class QuizAttemptAdmin(ReadOnlyRecordAdmin):
    list_display = ["enrollment", "quiz", "number", "score", "passed", "created_at"]
    list_filter = ["passed", "quiz"]
    search_fields = ["enrollment__user__email", "quiz__title"]
    list_select_related = ["enrollment__user", "enrollment__course", "quiz"]


class RevokeForm(forms.Form):
    reason = forms.CharField(
        max_length=250, widget=forms.TextInput(attrs={"size": 80}), label="Why is it revoked?"
    )


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyRecordAdmin):
    list_display = ["number", "user", "account", "course", "issued_on", "expires_on", "revoked_at"]
    list_filter = ["course", "product_family", "expires_on", "revoked_at"]
    search_fields = ["number", "user__email", "user__last_name", "account__name"]
    list_select_related = ["user", "account", "course"]
    date_hierarchy = "expires_on"
    actions = ["revoke"]

    @admin.action(description="Revoke the selected certificates")
    def revoke(self, request, queryset):
        """Asks for a reason first (an intermediate page), then revokes through the service."""
        form = RevokeForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            revoked, problems = 0, []
            for certificate in queryset.select_related("account"):
                try:
                    services.revoke_certificate(
                        actor=request.user,
                        certificate=certificate,
                        reason=form.cleaned_data["reason"],
                    )
                    revoked += 1
                except (ValidationError, PermissionDenied) as error:
                    problems.append(" ".join(getattr(error, "messages", [str(error)])))
            if revoked:
                self.message_user(request, f"{revoked} certificate(s) revoked.")
            for problem in problems:
                self.message_user(request, problem, level=messages.WARNING)
            return None
        return render(
            request,
            "training/certificate_admin_revoke.html",
            {
                **self.admin_site.each_context(request),
                "title": "Revoke certificates",
                "opts": self.model._meta,
                "certificates": queryset.select_related("user", "course"),
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


# --- onboarding ---------------------------------------------------------------------------------


class ChecklistStepForm(forms.ModelForm):
    class Meta:
        model = ChecklistStep
        fields = ("position", "title", "description", "ticks_when", "course")

    def clean(self):
        data = super().clean()
        wants_course = data.get("ticks_when") == StepCheck.COURSE_COMPLETED
        if wants_course and not data.get("course"):
            self.add_error("course", "Pick the course that ticks this step.")
        elif not wants_course and data.get("course"):
            self.add_error(
                "course", "Only a step that ticks itself when a course is completed has a course."
            )
        return data


class ChecklistStepInline(admin.TabularInline):
    model = ChecklistStep
    form = ChecklistStepForm
    extra = 0
    ordering = ("position", "pk")
    autocomplete_fields = ("course",)


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "tier", "step_count"]
    list_select_related = ["tier"]
    search_fields = ["name", "tier__name"]
    inlines = [ChecklistStepInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(step_total=models.Count("steps"))

    @admin.display(description="steps", ordering="step_total")
    def step_count(self, obj):
        return obj.step_total


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ReadOnlyRecordAdmin):
    list_display = ["account", "step", "done_at", "done_by", "ticked_automatically"]
    list_filter = ["ticked_automatically", "step__template"]
    search_fields = ["account__name", "step__title"]
    list_select_related = ["account", "step", "done_by"]


# --- library ------------------------------------------------------------------------------------


class ResourceForm(CheckedUploadForm):
    class Meta:
        model = Resource
        fields = (
            "title",
            "description",
            "category",
            "tags",
            "file",
            "version",
            "published_on",
            "published",
            "tiers",
            "accounts",
        )


@admin.register(ResourceTag)
class ResourceTagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    form = ResourceForm
    list_display = ["title", "category", "version", "published_on", "published", "size"]
    list_filter = ["published", "category", "tags", "tiers"]
    search_fields = ["title", "description", "tags__name"]
    filter_horizontal = ["tags", "tiers", "accounts"]
    date_hierarchy = "published_on"
    ordering = ["-published_on", "title", "pk"]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["title", "description", "category", "tags"]}),
        ("File", {"fields": ["file", "version", "published_on"]}),
        (
            "Who sees it",
            {
                "fields": ["published", "tiers", "accounts"],
                "description": "No tier and no account: every partner sees it.",
            },
        ),
    ]

    @admin.display(description="size", ordering="file_size")
    def size(self, obj):
        from django.template.defaultfilters import filesizeformat

        return filesizeformat(obj.file_size)

    @admin.action(description="Publish the selected resources")
    def publish(self, request, queryset):
        self.message_user(request, f"{queryset.update(published=True)} resource(s) published.")

    @admin.action(description="Unpublish the selected resources")
    def unpublish(self, request, queryset):
        self.message_user(request, f"{queryset.update(published=False)} resource(s) unpublished.")


@admin.register(ResourceDownload)
class ResourceDownloadAdmin(ReadOnlyRecordAdmin):
    list_display = ["resource", "account", "count", "last_at"]
    list_filter = ["resource__category"]
    search_fields = ["resource__title", "account__name"]
    list_select_related = ["resource", "account"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "position", "published", "updated_at"]
    list_filter = ["published", "category", "tiers"]
    search_fields = ["title", "category", "body"]
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ["tiers"]
    ordering = ["category", "position", "title", "pk"]
