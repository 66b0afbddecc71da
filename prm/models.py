"""Core tables: the user (email is the login) and the outbox of tasks the broker refused."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.db import models
from django.db.models.functions import Lower

PARTNER_MANAGERS_GROUP = "Partner managers"


class PortalUserManager(UserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who can log in: internal staff (admin, partner manager) or a partner user."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = PortalUserManager()

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.get_full_name() or self.email


class PendingTask(models.Model):
    """A task whose enqueue failed (broker down): kept so the work is not lost, re-sent later."""

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.task_name} (queued {self.created_at:%Y-%m-%d %H:%M})"


def partner_managers_group() -> Group:
    group, _ = Group.objects.get_or_create(name=PARTNER_MANAGERS_GROUP)
    return group


class SentMessage(models.Model):
    """The effect of a notification task, made unique so that running the task twice sends once."""

    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.key


class OwnRowsQuerySet(models.QuerySet):
    """Rows that belong to one person (``user``): their own, nobody else's."""

    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user=user)


class NotificationQuerySet(OwnRowsQuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app message (the bell). ``key`` makes a task that runs twice notify once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # The topic the person's email preference is read for (prm.notifications.TOPICS).
    topic = models.CharField(max_length=60, blank=True)
    # Waiting for the person's daily digest email (their preference for this topic is "digest");
    # digested_at is set when the digest that carried it was sent.
    in_digest = models.BooleanField(default=False)
    digested_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"]),
            models.Index(
                fields=["user", "created_at"],
                condition=models.Q(in_digest=True, digested_at__isnull=True),
                name="notification_digest_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")
        ]

    def __str__(self):
        return self.title


class CustomFieldTarget(models.TextChoices):
    """The records admins can add their own fields to (the seeds' "custom objects and fields")."""

    PARTNER_ACCOUNT = "partners.partneraccount", "Partner accounts"
    LEAD = "deals.lead", "Leads"
    REGISTRATION = "deals.dealregistration", "Deal registrations"
    OPPORTUNITY = "deals.opportunity", "Opportunities"


class CustomFieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    CHOICE = "choice", "Choice"
    BOOLEAN = "boolean", "Yes / no"


class CustomFieldQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Internal users see every active field; partners only those not marked internal."""
        from prm.access import role_of

        role = role_of(user)
        if role.is_internal:
            return self.filter(active=True)
        if role.is_partner:
            return self.filter(active=True, internal_only=False)
        return self.none()

    def for_model(self, model):
        return self.filter(target=model._meta.label_lower)


class CustomField(models.Model):
    """A typed field an admin adds to a record type; values live in the record's ``custom``."""

    target = models.CharField("record type", max_length=40, choices=CustomFieldTarget.choices)
    label = models.CharField(max_length=80)
    key = models.SlugField(
        max_length=40,
        help_text="Stored name of the value (letters, digits, underscores). Cannot change later.",
    )
    field_type = models.CharField("type", max_length=10, choices=CustomFieldType.choices)
    choices = models.TextField(
        blank=True, help_text="For a choice field: one option per line, in the order shown."
    )
    required = models.BooleanField(default=False)
    help_text = models.CharField(max_length=200, blank=True)
    internal_only = models.BooleanField(
        default=False, help_text="Shown to partner managers and admins only, never to partners."
    )
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CustomFieldQuerySet.as_manager()

    class Meta:
        ordering = ["target", "position", "label", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["target", "key"], name="customfield_key_per_target")
        ]

    def __str__(self):
        return f"{self.label} ({self.get_target_display()})"

    @property
    def options(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class EmailMode(models.TextChoices):
    INSTANT = "instant", "Email each one"
    DIGEST = "digest", "Daily digest"
    OFF = "off", "No email (bell only)"


class NotificationPreference(models.Model):
    """How one person wants the emails of one topic; no row means the topic's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    topic = models.CharField(max_length=60)
    mode = models.CharField(max_length=10, choices=EmailMode.choices)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnRowsQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "topic"], name="preference_once_per_topic")
        ]

    def __str__(self):
        return f"{self.user} · {self.topic}: {self.get_mode_display()}"


class FailedTask(models.Model):
    """A task that failed for good (its retries spent): shown to admins, who can re-run it."""

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    exception = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    retries = models.PositiveIntegerField(default=0)
    failed_at = models.DateTimeField(auto_now_add=True)
    rerun_at = models.DateTimeField(null=True, blank=True)
    rerun_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-failed_at", "-pk"]

    def __str__(self):
        return f"{self.task_name} failed {self.failed_at:%Y-%m-%d %H:%M}: {self.exception}"


class SchedulerLease(models.Model):
    """Which beat process may send the schedule: one holder at a time, renewed while it runs,
    taken over by a standby once it expires (a second beat started by mistake sends nothing)."""

    name = models.CharField(max_length=50, unique=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name}: {self.holder} until {self.expires_at:%H:%M:%S}"
