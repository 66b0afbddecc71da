"""Training: courses with lessons and quizzes, enrollments and progress, certificates.

Partners see published courses of their tier; what a person did (enrollments, progress, quiz
attempts, certificates) is seen by that person, their company's partner admins, and the internal
users who see the company.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from prm.access import (
    ReferenceQuerySet,
    Role,
    ScopedQuerySet,
    partner_contact,
    role_of,
    sees_everything,
    visible_through,
)

# --- courses ------------------------------------------------------------------------------------


class CourseQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Internal users: every course. Partners: published courses open to their tier."""
        role = role_of(user)
        if role.is_internal:
            return self.all()
        if not role.is_partner:
            return self.none()
        contact = partner_contact(user)
        tier_id = contact.account.tier_id if contact is not None else None
        return (
            self.filter(published=True)
            .filter(models.Q(tiers__isnull=True) | models.Q(tiers=tier_id))
            .distinct()
        )

    def required_for(self, tier_id):
        return self.filter(required_for=tier_id)


class Course(models.Model):
    """A course partners take: ordered lessons, and an optional quiz at the end."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.TextField(blank=True, max_length=2000)
    audience = models.ManyToManyField(
        "partners.ContactRole",
        blank=True,
        related_name="courses",
        help_text="Contact roles it is meant for (none: everyone).",
    )
    tiers = models.ManyToManyField(
        "partners.Tier",
        blank=True,
        related_name="courses",
        help_text="Tiers that may see it (none: every tier).",
    )
    required_for = models.ManyToManyField(
        "partners.Tier",
        blank=True,
        related_name="required_courses",
        help_text="Tiers for which it is mandatory.",
    )
    duration_minutes = models.PositiveSmallIntegerField("estimated duration (minutes)", default=30)
    product_family = models.CharField(
        max_length=80, blank=True, help_text="The product family a certificate of it certifies."
    )
    is_certification = models.BooleanField(
        "certification course", default=False, help_text="Passing it issues a certificate."
    )
    validity_days = models.PositiveSmallIntegerField(
        "certificate validity (days)", default=365, help_text="How long its certificate is valid."
    )
    published = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["position", "title", "pk"]

    def __str__(self):
        return self.title


class Lesson(models.Model):
    """A lesson of a course: sanitised rich text, an optional video link."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    body = models.TextField(
        blank=True, help_text="Markdown or HTML; scripts and event handlers are removed."
    )
    video_url = models.URLField("video link", blank=True)
    minutes = models.PositiveSmallIntegerField(default=5)

    objects = visible_through("course").as_manager()

    class Meta:
        ordering = ["course", "position", "pk"]

    def __str__(self):
        return self.title


class LessonAttachment(models.Model):
    """A file handed out with a lesson (a checklist, a template, slides), checked on upload like
    the library's files and downloaded only by those who see the lesson."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(max_length=150)
    file = models.FileField(upload_to="lessons/%Y/%m/")
    file_size = models.PositiveBigIntegerField(default=0, editable=False)
    position = models.PositiveSmallIntegerField(default=0)

    objects = visible_through("lesson").as_manager()

    class Meta:
        ordering = ["lesson", "position", "pk"]

    def __str__(self):
        return self.title


class Quiz(models.Model):
    """The quiz at the end of a course (or of one lesson), graded on the server."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="quizzes")
    lesson = models.ForeignKey(
        Lesson,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quizzes",
        help_text="Leave blank for the course's final quiz.",
    )
    title = models.CharField(max_length=200)
    pass_mark = models.PositiveSmallIntegerField("pass mark (%)", default=80)
    max_attempts = models.PositiveSmallIntegerField(
        "attempts allowed", default=3, help_text="0: unlimited."
    )
    shuffle = models.BooleanField("shuffle questions", default=True)

    objects = visible_through("course").as_manager()

    class Meta:
        ordering = ["course", "pk"]
        verbose_name_plural = "quizzes"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pass_mark__lte=100), name="quiz_pass_mark_percent"
            )
        ]

    def __str__(self):
        return self.title


class QuestionKind(models.TextChoices):
    SINGLE = "single", "One answer"
    MULTIPLE = "multiple", "Several answers"


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)
    kind = models.CharField(
        max_length=10, choices=QuestionKind.choices, default=QuestionKind.SINGLE
    )
    explanation = models.CharField(
        max_length=500, blank=True, help_text="Shown after the quiz is submitted."
    )

    objects = visible_through("quiz").as_manager()

    class Meta:
        ordering = ["quiz", "position", "pk"]

    def __str__(self):
        return self.text


class Choice(models.Model):
    """An answer to a question. ``is_correct`` never leaves the server before grading."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    is_correct = models.BooleanField(default=False)

    objects = visible_through("question").as_manager()

    class Meta:
        ordering = ["question", "position", "pk"]

    def __str__(self):
        return self.text


# --- what people did ----------------------------------------------------------------------------


class PersonRecordQuerySet(ScopedQuerySet):
    """Records of one person's learning (``user_field`` names the person).

    The person; their company's partner admins (and, read-only, a parent distributor's); the
    internal users who see the company; admins and global viewers: all.
    """

    user_field = "user"

    def visible_to(self, user):
        from partners.models import PartnerAccount

        role = role_of(user)
        if role.is_internal and sees_everything(user, self.model):
            return self.all()
        if role.is_internal or role is Role.PARTNER_ADMIN:
            accounts = PartnerAccount.objects.visible_to(user)
            return self.filter(**{f"{self.user_field}__contact__account__in": accounts})
        if role is Role.PARTNER_MEMBER:
            return self.filter(**{self.user_field: user})
        return self.none()


class EnrollmentStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class Enrollment(models.Model):
    """A person taking a course: progress per lesson, quiz attempts, completion."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrollments")
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=EnrollmentStatus.choices, default=EnrollmentStatus.IN_PROGRESS
    )
    last_lesson = models.ForeignKey(
        Lesson, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    enrolled_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = PersonRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-enrolled_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="enrolled_once_per_course")
        ]

    def __str__(self):
        return f"{self.user} in {self.course}"


class LessonProgress(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="+")
    completed_at = models.DateTimeField(default=timezone.now)

    objects = visible_through("enrollment").as_manager()

    class Meta:
        ordering = ["completed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "lesson"], name="lesson_done_once")
        ]

    def __str__(self):
        return f"{self.lesson} done"


class QuizAttempt(models.Model):
    """One graded submission: the score, whether it passed, and the answers given."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="attempts")
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    score = models.PositiveSmallIntegerField(help_text="Percent.")
    passed = models.BooleanField()
    answers = models.JSONField(default=dict, help_text="question id → chosen choice ids")
    created_at = models.DateTimeField(default=timezone.now)

    objects = visible_through("enrollment").as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "quiz", "number"], name="attempt_numbered_once"
            )
        ]

    def __str__(self):
        return f"Attempt {self.number} at {self.quiz}: {self.score}%"


class CertificateQuerySet(PersonRecordQuerySet):
    def valid_on(self, day):
        return self.filter(revoked_at__isnull=True, issued_on__lte=day, expires_on__gte=day)


class Certificate(models.Model):
    """Issued to a person for passing a certification course; valid until ``expires_on``."""

    number = models.CharField(max_length=20, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificates"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="certificates")
    account = models.ForeignKey(
        "partners.PartnerAccount",
        on_delete=models.CASCADE,
        related_name="certificates",
        help_text="The company the person was with when certified.",
    )
    product_family = models.CharField(max_length=80, blank=True, db_index=True)
    issued_on = models.DateField()
    expires_on = models.DateField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on", "-pk"]
        indexes = [models.Index(fields=["account", "product_family", "expires_on"])]

    def __str__(self):
        return f"{self.number} — {self.course}"


# --- resource library and knowledge base --------------------------------------------------------


class ResourceCategory(models.TextChoices):
    DOCUMENT = "document", "Document"
    SALES_DECK = "sales_deck", "Sales deck"
    PRICE_LIST = "price_list", "Price list"
    BATTLE_CARD = "battle_card", "Battle card"
    LOGO = "logo", "Logo and brand"
    DATASHEET = "datasheet", "Datasheet"
    OTHER = "other", "Other"


class ResourceTag(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class RestrictedContentQuerySet(ScopedQuerySet):
    """Content an admin may restrict to tiers (and, for resources, to accounts).

    Internal users see everything. Partners see what is published and open to their tier (no
    tiers: every tier) and, where the model has ``accounts``, to an account they can view (the
    guardian-backed ``PartnerAccount.visible_to``; no accounts: every account).
    """

    def visible_to(self, user):
        from partners.models import PartnerAccount

        role = role_of(user)
        if role.is_internal:
            return self.all()
        if not role.is_partner:
            return self.none()
        contact = partner_contact(user)
        tier_id = contact.account.tier_id if contact is not None else None
        rows = self.filter(published=True).filter(
            models.Q(tiers__isnull=True) | models.Q(tiers=tier_id)
        )
        if any(f.name == "accounts" for f in self.model._meta.get_fields()):
            rows = rows.filter(
                models.Q(accounts__isnull=True)
                | models.Q(accounts__in=PartnerAccount.objects.visible_to(user))
            )
        return rows.distinct()


def resource_upload_to(resource, filename: str) -> str:
    return f"resources/{timezone.now():%Y/%m}/{filename}"


class Resource(models.Model):
    """A file in the partner library: a deck, a price list, a battle card, a logo…"""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    category = models.CharField(
        max_length=20, choices=ResourceCategory.choices, default=ResourceCategory.DOCUMENT
    )
    tags = models.ManyToManyField(ResourceTag, blank=True, related_name="resources")
    tiers = models.ManyToManyField(
        "partners.Tier",
        blank=True,
        related_name="+",
        help_text="Tiers that may see it (none: every tier).",
    )
    accounts = models.ManyToManyField(
        "partners.PartnerAccount",
        blank=True,
        related_name="+",
        help_text="Partner accounts that may see it (none: every account).",
    )
    file = models.FileField(upload_to=resource_upload_to)
    file_size = models.PositiveBigIntegerField(default=0, editable=False)
    version = models.CharField(max_length=20, blank=True)
    published_on = models.DateField(default=timezone.localdate)
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedContentQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "title", "pk"]

    def __str__(self):
        return self.title


class ResourceDownloadQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Download counts of the accounts the user sees."""
        from partners.models import PartnerAccount

        role = role_of(user)
        if role.is_internal and sees_everything(user, self.model):
            return self.all()
        return self.filter(account__in=PartnerAccount.objects.visible_to(user))


class ResourceDownload(models.Model):
    """How often one account downloaded one resource (one row per pair, counted up)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="downloads")
    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="+"
    )
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField(default=timezone.now)

    objects = ResourceDownloadQuerySet.as_manager()

    class Meta:
        ordering = ["-last_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "account"], name="download_count_per_account"
            )
        ]

    def __str__(self):
        return f"{self.account} × {self.count}: {self.resource}"


class Article(models.Model):
    """A knowledge-base / FAQ article (sanitised Markdown)."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    category = models.CharField(max_length=80, blank=True)
    body = models.TextField(help_text="Markdown; scripts and event handlers are removed.")
    tiers = models.ManyToManyField(
        "partners.Tier",
        blank=True,
        related_name="+",
        help_text="Tiers that may see it (none: every tier).",
    )
    published = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedContentQuerySet.as_manager()

    class Meta:
        ordering = ["category", "position", "title", "pk"]

    def __str__(self):
        return self.title


# --- onboarding checklists ----------------------------------------------------------------------


class ChecklistTemplate(models.Model):
    """The onboarding checklist of a tier (or the default, without a tier)."""

    name = models.CharField(max_length=120)
    tier = models.OneToOneField(
        "partners.Tier",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="checklist",
        help_text="Leave blank for the default checklist.",
    )

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["tier__rank", "pk"]

    def __str__(self):
        return self.name


class StepCheck(models.TextChoices):
    MANUAL = "manual", "Ticked by a partner admin"
    PROFILE_COMPLETE = "profile_complete", "Company profile complete"
    COLLEAGUE_INVITED = "colleague_invited", "A colleague invited"
    COURSE_COMPLETED = "course_completed", "A course completed"
    DEAL_REGISTERED = "deal_registered", "A first deal registered"


class ChecklistStep(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=150)
    description = models.CharField(max_length=500, blank=True)
    ticks_when = models.CharField(
        "ticks itself when", max_length=20, choices=StepCheck.choices, default=StepCheck.MANUAL
    )
    course = models.ForeignKey(
        Course,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For “a course completed”: which one.",
    )

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["template", "position", "pk"]

    def __str__(self):
        return self.title


class ChecklistItemQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        from partners.models import PartnerAccount

        role = role_of(user)
        if role.is_internal and sees_everything(user, self.model):
            return self.all()
        return self.filter(account__in=PartnerAccount.objects.visible_to(user))


class ChecklistItem(models.Model):
    """One step of an account's onboarding checklist, done or not."""

    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="checklist_items"
    )
    step = models.ForeignKey(ChecklistStep, on_delete=models.CASCADE, related_name="items")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticked_automatically = models.BooleanField(default=False)

    objects = ChecklistItemQuerySet.as_manager()

    class Meta:
        ordering = ["step__position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "step"], name="checklist_step_once")
        ]

    def __str__(self):
        return f"{self.account}: {self.step}"
