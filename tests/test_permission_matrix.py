"""The permission matrix: every URL pattern of the resolver, requested as every persona.

Each pattern has a declared ``Case`` (or, for Django admin's per-model views, a declared rule):
how to build its URL from the two-company world, the method, and the answer each persona gets.
A pattern without one fails, and so does a declaration that matches no pattern any more.
Anything that names account A's objects answers 404 to account B's partner admin and to the
manager who is not assigned to A (ARCHITECTURE.md §3: not yours = does not exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from deals import services as deal_services
from deals.models import (
    AssignmentRule,
    DealRegistration,
    ExtensionRequest,
    Lead,
    Opportunity,
    PipelineStage,
    Product,
    RegistrationLine,
)
from partners.models import (
    AccountStatus,
    AuditAction,
    PartnerAccount,
    PartnerAccountGroupObjectPermission,
    Tier,
    Workspace,
)
from partners.services import record
from prm.mail import preferences_token, unsubscribe_token
from prm.models import (
    CustomField,
    FailedTask,
    Notification,
    PendingTask,
    SentMessage,
    partner_managers_group,
)
from prm.testing.fixtures import login_as
from prm.testing.matrix import (
    ADMIN_LOGIN,
    LOGIN,
    PERSONAS,
    REDIRECT,
    Case,
    Redirect,
    Route,
    answer_matches,
    case_for,
    check_resolves_to,
    coverage_problems,
    describe,
    everyone,
    iter_routes,
)
from prm.testing.world import World, make_invitation, make_user

PARTNERS = ("member_a", "partner_admin_a", "partner_admin_b")
INTERNAL = ("manager", "other_manager", "admin")
SIGNED_IN = PARTNERS + INTERNAL
NOT_STAFF = PARTNERS + ("manager", "other_manager")  # not is_staff: the admin site is closed


@dataclass
class MatrixWorld:
    """The two-company world plus what some URLs need: an open invitation's token, a password
    reset link, an email confirmation key, and a row of every model the admin site shows."""

    world: World
    invitation_token: str
    reset_uidb36: str
    reset_key: str
    confirmation_key: str
    admin_rows: dict[str, str]
    sessions: dict[str, str]  # persona → session key, signed in once for the whole module
    lead_a: Lead  # assigned to A, waiting for its answer
    accepted_lead_a: Lead  # accepted by A (can be marked lost)

    def __getattr__(self, name):
        return getattr(self.world, name)


def _authenticator(user):
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "00", "used_mask": 0}
    )


def _workspace():
    # For a tier nobody is on: the world's partners keep the default tabs.
    tier = Tier.objects.create(name="Matrix sample tier", rank=999)
    return Workspace.objects.create(name="Sample workspace", tier=tier)


def _audit_entry():
    account = PartnerAccount.objects.get(name="Northwind Systems")
    return record(actor=account.manager, account=account, action=AuditAction.CHANGE, obj=account)


def _group_permission_row():
    # Guardian group rows are never consulted (use_groups=False); one is needed to show the page.
    return PartnerAccountGroupObjectPermission.objects.create(
        group=partner_managers_group(),
        permission=Permission.objects.get(codename="view_partneraccount"),
        content_object=PartnerAccount.objects.get(name="Contoso Partners"),
    )


#: A row for admin pages of models the world doesn't fill ("app_label.model_name" → factory).
def _registration_row():
    from partners.models import PartnerAccount

    return DealRegistration.objects.create(
        account=PartnerAccount.objects.order_by("pk").first(),
        company="Matrix Admin Row Ltd",
        contact_name="Pat",
        contact_email="pat@matrix-row.example",
        amount=1,
        expected_close_date=date(2030, 1, 1),
    )


def _opportunity_row():
    from partners.models import PartnerAccount

    return Opportunity.objects.create(
        account=PartnerAccount.objects.order_by("pk").first(),
        name="Matrix admin row",
        company="Matrix Admin Row Ltd",
        stage=PipelineStage.objects.order_by("pk").first(),
        amount=1,
        close_date=date(2030, 1, 1),
    )


ADMIN_ROWS = {
    "partners.workspace": _workspace,
    "partners.auditentry": _audit_entry,
    "partners.partneraccountgroupobjectpermission": _group_permission_row,
    "deals.product": lambda: Product.objects.create(
        name="Sample", sku="MATRIX-1", family="Platform", list_price=10
    ),
    "deals.assignmentrule": lambda: AssignmentRule.objects.create(name="Matrix rule"),
    "deals.pipelinestage": lambda: PipelineStage.objects.create(name="Matrix stage", probability=5),
    "deals.dealregistration": lambda: _registration_row(),
    "deals.extensionrequest": lambda: ExtensionRequest.objects.create(
        registration=_registration_row(), requested_until=date(2030, 1, 1), reason="Matrix"
    ),
    "deals.opportunity": lambda: _opportunity_row(),
    "training.course": lambda: _training_rows()["course"],
    "training.lesson": lambda: _training_rows()["lesson"],
    "training.quiz": lambda: _training_rows()["quiz"],
    "training.question": lambda: _training_rows()["question"],
    "training.enrollment": lambda: _training_rows()["enrollment"],
    "training.lessonprogress": lambda: _training_rows()["enrollment"].progress.get(),
    "training.quizattempt": lambda: _training_rows()["enrollment"].attempts.get(),
    "training.certificate": lambda: _training_rows()["certificate"],
    "training.checklisttemplate": lambda: _onboarding_item_of_a().step.template,
    "training.checklistitem": lambda: _onboarding_item_of_a(),
    "training.resource": lambda: _resource_of_a(),
    "training.resourcetag": lambda: _resource_tag(),
    "training.resourcedownload": lambda: _download_of_a(),
    "training.article": lambda: _platinum_article(),
    "analytics.kpidefinition": lambda: _analytics_row("kpidefinition"),
    "analytics.currencyrate": lambda: _analytics_row("currencyrate"),
    "analytics.goal": lambda: _analytics_row("goal"),
    "analytics.partnerscore": lambda: _analytics_row("partnerscore"),
    "analytics.savedreport": lambda: _analytics_row("savedreport"),
    "analytics.alertrule": lambda: _alert_rule(),
    "analytics.alert": lambda: _alert_of_a_row(),
    "analytics.survey": lambda: _matrix_survey()["survey"],
    "analytics.surveydistribution": lambda: _matrix_survey()["distribution"],
    "analytics.surveysettings": lambda: _matrix_survey()["settings"],
    "analytics.surveyinvitation": lambda: _matrix_survey()["invitation"],
    "analytics.surveyresponse": lambda: _matrix_survey()["response"],
    "analytics.quarterlyreview": lambda: _review_of_a_row(),
    "prm.notification": lambda: Notification.objects.create(
        user=make_user("bell-sample@vendor.example"), key="matrix", title="Matrix"
    ),
    "prm.pendingtask": lambda: PendingTask.objects.create(task_name="partners.send_invitation"),
    "prm.failedtask": lambda: FailedTask.objects.create(
        task_id="matrix-failed-task",
        task_name="prm.resend_pending_tasks",
        exception="OSError",
        message="Connection refused",
    ),
    "prm.sentmessage": lambda: SentMessage.objects.create(key="matrix-sample"),
    "prm.customfield": lambda: CustomField.objects.create(
        target="deals.lead", label="Matrix field", key="matrix_field", field_type="text"
    ),
    "mfa.authenticator": lambda: _authenticator(make_user("mfa-sample@vendor.example")),
    "django_celery_beat.intervalschedule": lambda: IntervalSchedule.objects.create(
        every=10, period=IntervalSchedule.SECONDS
    ),
    "django_celery_beat.crontabschedule": lambda: CrontabSchedule.objects.create(minute="5"),
    "django_celery_beat.solarschedule": lambda: SolarSchedule.objects.create(
        event="sunrise", latitude=52.5, longitude=13.4
    ),
    "django_celery_beat.clockedschedule": lambda: ClockedSchedule.objects.create(
        clocked_time=timezone.now() + timedelta(days=1)
    ),
    "django_celery_beat.periodictask": lambda: PeriodicTask.objects.create(
        name="matrix sample",
        task="prm.resend_pending_tasks",
        interval=IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES),
    ),
}


def _leads(world) -> tuple[Lead, Lead]:
    """A lead waiting for A, one A accepted, and one B turned down (a LeadRejection row)."""

    def assigned(company, account, manager):
        lead = deal_services.create_lead(actor=manager, lead=Lead(company=company))
        return deal_services.assign_lead(actor=manager, lead=lead, account=account)

    waiting = assigned("Matrix Waiting GmbH", world.a, world.manager)
    accepted = deal_services.accept_lead(
        actor=world.partner_admin_a, lead=assigned("Matrix Accepted AG", world.a, world.manager)
    )
    deal_services.reject_lead(
        actor=world.partner_admin_b,
        lead=assigned("Matrix Rejected Inc.", world.b, world.other_manager),
        reason="Not our region",
    )
    return waiting, accepted


def _label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


@pytest.fixture(scope="module")
def matrix_world(module_world, django_db_blocker) -> MatrixWorld:  # noqa: F811
    with django_db_blocker.unblock():
        world = module_world
        _, token = make_invitation(world.contact_plain_a, invited_by=world.partner_admin_a)
        lead_a, accepted_lead_a = _leads(world)
        admin_rows = {}
        for model in admin.site._registry:
            row = model._default_manager.order_by("pk").first()
            if row is None and _label(model) in ADMIN_ROWS:
                row = ADMIN_ROWS[_label(model)]()
            if row is not None:
                admin_rows[_label(model)] = str(row.pk)
        # Not a persona: signing in changes last_login, which voids a password-reset key.
        bystander = make_user("bystander@vendor.example")
        address = EmailAddress.objects.get(user=bystander)
        return MatrixWorld(
            world=world,
            invitation_token=token,
            reset_uidb36=user_pk_to_url_str(bystander),
            reset_key=default_token_generator.make_token(bystander),
            confirmation_key=EmailConfirmationHMAC(address).key,
            admin_rows=admin_rows,
            lead_a=lead_a,
            accepted_lead_a=accepted_lead_a,
            sessions={
                persona: login_as(Client(), getattr(world, persona)).session.session_key
                for persona in PERSONAS
                if persona != "anonymous"
            },
        )


def account_a(w):
    return {"pk": w.a.pk}


def plain_contact_a(w):
    return {"pk": w.contact_plain_a.pk}


def member_contact_a(w):
    return {"pk": w.contact_member_a.pk}


def lead_of_a(w):
    return {"pk": w.lead_a.pk}


def accepted_lead_of_a(w):
    return {"pk": w.accepted_lead_a.pk}


def notification_of_partner_admin_a(w):
    note, _ = Notification.objects.get_or_create(
        user=w.partner_admin_a, key="matrix-bell", defaults={"title": "Matrix bell", "url": "/"}
    )
    return {"pk": note.pk}


def opportunity_of_a(w):
    """An open opportunity of A, owned by its partner admin and shared with the account (so
    member_a sees it but may not change it)."""
    deal, _ = Opportunity.objects.get_or_create(
        name="Matrix Pipeline Deal",
        defaults={
            "account": w.a,
            "owner": w.partner_admin_a,
            "shared_with_account": True,
            "company": "Matrix Pipeline GmbH",
            "stage": PipelineStage.objects.get(name="Qualification"),
            "amount": 1000,
            "close_date": date(2031, 1, 1),
        },
    )
    return {"pk": deal.pk}


def approved_registration_of_a(w):
    """An approved registration of A by its partner admin, shared (member_a sees it: 403)."""
    registration, _ = DealRegistration.objects.get_or_create(
        company="Matrix Approved Registration Ltd",
        defaults={
            "account": w.a,
            "created_by": w.partner_admin_a,
            "shared_with_account": True,
            "contact_name": "Pat",
            "contact_email": "pat@matrix-approved.example",
            "amount": 1000,
            "expected_close_date": date(2031, 1, 1),
            "product_family": "Matrix family",
            "status": "approved",
            "expires_on": date(2031, 1, 1),
        },
    )
    return {"pk": registration.pk}


def proposal_stage(w):
    return {"stage": PipelineStage.objects.get(name="Proposal").pk}


def _matrix_registration(w, company, *, account=None, created_by=None, **fields):
    """A registration of A (by its partner admin, not shared unless asked) with one line."""
    product, _ = Product.objects.get_or_create(
        sku="MATRIX-REG-1",
        defaults={"name": "Matrix Reg Product", "family": "Matrix reg family", "list_price": 1},
    )
    registration, created = DealRegistration.objects.get_or_create(
        company=company,
        defaults={
            "account": account or w.a,
            "created_by": created_by or w.partner_admin_a,
            "domain": "matrix-customer.example",
            "contact_name": "Pat Matrix",
            "contact_email": "pat@matrix-customer.example",
            "amount": 1000,
            "expected_close_date": timezone.localdate() + timedelta(days=60),
            "product_family": product.family,
            **fields,
        },
    )
    if created:
        RegistrationLine.objects.create(registration=registration, product=product, quantity=2)
    return registration


def draft_registration_of_a(w):
    """A draft of A's partner admin, not shared: member_a gets 404."""
    return {"pk": _matrix_registration(w, "Matrix Draft Customer Ltd").pk}


def submitted_registration_of_a(w):
    """A's partner admin's registration under review, flagged against B's for the same
    customer (so the manager's conflict view has something side by side)."""
    _matrix_registration(
        w,
        "Matrix Customer Inc.",
        account=w.b,
        created_by=w.partner_admin_b,
        status="submitted",
        submitted_at=timezone.now() - timedelta(days=2),
    )
    registration = _matrix_registration(
        w,
        "Matrix Customer Incorporated",
        status="submitted",
        submitted_at=timezone.now() - timedelta(days=1),
        conflict=True,
        conflict_reasons="Registration by Contoso Partners: same domain",
    )
    return {"pk": registration.pk}


def _approved_registration_of_a(w):
    return _matrix_registration(
        w,
        "Matrix Protected Customer GmbH",
        domain="matrix-protected.example",
        shared_with_account=True,
        status="approved",
        expires_on=timezone.localdate() + timedelta(days=30),
    )


def protected_registration_of_a(w):
    """Approved and shared with A (member_a sees it, but only its creator or an admin asks
    for an extension)."""
    return {"pk": _approved_registration_of_a(w).pk}


def extension_of_a(w):
    extension, _ = ExtensionRequest.objects.get_or_create(
        registration=_approved_registration_of_a(w),
        defaults={
            "requested_by": w.partner_admin_a,
            "requested_until": timezone.localdate() + timedelta(days=60),
            "reason": "Matrix: the board meets later",
        },
    )
    return {"pk": extension.pk}


# Answers of a page on account A's data, by who may see and who may change it.
A_PAGE_FOR_VIEWERS = {
    "anonymous": LOGIN,
    "member_a": 200,
    "partner_admin_a": 200,
    "partner_admin_b": 404,
    "manager": 200,
    "other_manager": 404,
    "admin": 200,
}
A_PAGE_FOR_EDITORS = {**A_PAGE_FOR_VIEWERS, "member_a": 403}
A_ACTION_FOR_EDITORS = {
    **A_PAGE_FOR_EDITORS,
    "partner_admin_a": REDIRECT,
    "manager": REDIRECT,
    "admin": REDIRECT,
}
REAUTHENTICATE = Redirect("account_reauthenticate")
MANAGER_PAGE = everyone(200, anonymous=LOGIN, **dict.fromkeys(PARTNERS, 403))
# A registration of A that its partner admin did not share: its member colleague gets 404 too.
A_PRIVATE_REGISTRATION = {**A_PAGE_FOR_VIEWERS, "member_a": 404}
# Answering a lead is for the people of the partner holding it; the internal side sees it (403).
A_LEAD_ANSWER = {
    **A_PAGE_FOR_VIEWERS,
    "member_a": REDIRECT,
    "partner_admin_a": REDIRECT,
    "manager": 403,
    "admin": 403,
}


def _training_rows():
    """A certification course with a lesson, a quiz, a question with its choices, and member_a's
    enrollment, progress, passed attempt and certificate (once: later calls find them)."""
    from training.models import (
        Certificate,
        Choice,
        Course,
        Enrollment,
        Lesson,
        LessonProgress,
        Question,
        Quiz,
        QuizAttempt,
    )

    member = get_user_model().objects.get(email="jamie@northwind.example")
    course, _ = Course.objects.get_or_create(
        slug="matrix-certification",
        defaults={"title": "Matrix Certification", "is_certification": True, "published": True},
    )
    lesson, _ = Lesson.objects.get_or_create(course=course, title="Matrix lesson")
    quiz, _ = Quiz.objects.get_or_create(course=course, title="Matrix quiz")
    question, _ = Question.objects.get_or_create(quiz=quiz, text="Matrix question?")
    Choice.objects.get_or_create(question=question, text="Yes", defaults={"is_correct": True})
    enrollment, _ = Enrollment.objects.get_or_create(user=member, course=course)
    LessonProgress.objects.get_or_create(enrollment=enrollment, lesson=lesson)
    QuizAttempt.objects.get_or_create(
        enrollment=enrollment, quiz=quiz, number=1, defaults={"score": 100, "passed": True}
    )
    certificate, _ = Certificate.objects.get_or_create(
        number="OPRM-2026-MATRIX",
        defaults={
            "user": member,
            "course": course,
            "account": PartnerAccount.objects.get(name="Northwind Systems"),
            "issued_on": date(2026, 1, 1),
            "expires_on": date(2031, 1, 1),
        },
    )
    return {
        "course": course,
        "lesson": lesson,
        "quiz": quiz,
        "question": question,
        "enrollment": enrollment,
        "certificate": certificate,
    }


def certificate_of_a(w):
    """member_a's certificate: theirs, their partner admin's and their manager's to see."""
    return {"pk": _training_rows()["certificate"].pk}


def _platinum_course():
    """A published course open only to a tier nobody in the world is on (A and B are Gold),
    with a lesson and a quiz: every partner gets 404, internal users preview it."""
    from training.models import Choice, Course, Lesson, Question, Quiz

    course, created = Course.objects.get_or_create(
        slug="matrix-platinum-only", defaults={"title": "Matrix Platinum Only", "published": True}
    )
    if created:
        course.tiers.add(Tier.objects.create(name="Matrix Platinum", rank=90))
        Lesson.objects.create(course=course, title="Platinum lesson")
        quiz = Quiz.objects.create(course=course, title="Platinum quiz")
        question = Question.objects.create(quiz=quiz, text="Platinum question?")
        Choice.objects.create(question=question, text="Yes", is_correct=True)
    return course


def platinum_course(w):
    return {"slug": _platinum_course().slug}


def platinum_lesson(w):
    course = _platinum_course()
    return {"slug": course.slug, "pk": course.lessons.get().pk}


def platinum_lesson_file(w):
    """A small PDF of the Platinum course's lesson (once: later calls find it)."""
    from django.core.files.base import ContentFile

    from training.models import LessonAttachment

    lesson = _platinum_course().lessons.get()
    attachment = lesson.attachments.first()
    if attachment is None:
        attachment = LessonAttachment(lesson=lesson, title="Platinum handout", file_size=9)
        attachment.file.save("handout.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
        attachment.save()
    return {"slug": lesson.course.slug, "pk": lesson.pk, "file_pk": attachment.pk}


def platinum_quiz(w):
    course = _platinum_course()
    return {"slug": course.slug, "pk": course.quizzes.get().pk}


# Another tier's course: 404 for every partner (A's and B's), a preview for internal users, who
# take no course themselves (their writes: 403).
OTHER_TIER_PAGE = everyone(200, anonymous=LOGIN, **dict.fromkeys(PARTNERS, 404))
OTHER_TIER_ACTION = everyone(403, anonymous=LOGIN, **dict.fromkeys(PARTNERS, 404))


def _onboarding_item_of_a():
    """A's item of a manual step of the Gold onboarding checklist (once: later calls find it)."""
    from training import services as training_services
    from training.models import ChecklistItem, ChecklistStep, ChecklistTemplate

    account = PartnerAccount.objects.get(name="Northwind Systems")
    template, _ = ChecklistTemplate.objects.get_or_create(
        tier=account.tier, defaults={"name": "Matrix onboarding"}
    )
    step, _ = ChecklistStep.objects.get_or_create(
        template=template, title="Matrix kick-off call", defaults={"ticks_when": "manual"}
    )
    training_services.ensure_checklist(account)
    return ChecklistItem.objects.get(account=account, step=step)


def onboarding_item_of_a(w):
    return {"pk": _onboarding_item_of_a().pk}


# --- library ---


@pytest.fixture(scope="module", autouse=True)
def matrix_media(tmp_path_factory):
    """One temporary media directory for the whole module, set before the matrix world (and
    its files) is built."""
    from django.test import override_settings

    path = tmp_path_factory.mktemp("matrix-media")
    with override_settings(MEDIA_ROOT=path):
        yield path


@pytest.fixture(autouse=True)
def media_root(settings, matrix_media):
    """The files the matrix's rows are made with (library, lesson files) outlive one test: one
    temporary directory for the module (this replaces the per-test one of prm.testing)."""
    settings.MEDIA_ROOT = matrix_media
    return matrix_media


def _resource_of_a():
    """A small PDF open to account A only (once: later calls find it)."""
    from django.core.files.base import ContentFile

    from training.models import Resource

    resource = Resource.objects.filter(title="Matrix resource of A").first()
    if resource is None:
        resource = Resource(title="Matrix resource of A", file_size=9)
        resource.file.save("matrix.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
        resource.save()
        resource.accounts.add(PartnerAccount.objects.get(name="Northwind Systems"))
    return resource


def resource_of_a(w):
    return {"pk": _resource_of_a().pk}


def _platinum_article():
    """A published FAQ article open only to a tier nobody in the world is on."""
    from training.models import Article

    article, created = Article.objects.get_or_create(
        slug="matrix-platinum-faq", defaults={"title": "Matrix Platinum FAQ", "body": "Hi"}
    )
    if created:
        article.tiers.add(Tier.objects.create(name="Matrix Platinum FAQ tier", rank=91))
    return article


def _resource_tag():
    from training.models import ResourceTag

    return ResourceTag.objects.get_or_create(slug="matrix-tag", defaults={"name": "Matrix tag"})[0]


def _download_of_a():
    from training.models import ResourceDownload

    row, _ = ResourceDownload.objects.get_or_create(
        resource=_resource_of_a(), account=PartnerAccount.objects.get(name="Northwind Systems")
    )
    return row


# A's resource: its people and every internal user (the whole library); B: 404.
A_RESOURCE = {**A_PAGE_FOR_VIEWERS, "other_manager": 200}


def scorecard_chart_of_a(w):
    """A scorecard chart's CSV naming account A (``?account=``): its builder looks it up in
    the viewer's ``visible_to``, so another company (or manager) gets 404."""
    from django.urls import reverse

    return reverse("analytics:chart_csv", kwargs={"key": "scorecard-stages"}) + f"?account={w.a.pk}"


def shared_report(w):
    """Maya's report over every opportunity, shared with partner admins (not with the other
    managers): each partner admin runs it on their own rows; members and Otto get 404."""
    from analytics.models import SavedReport

    report, _ = SavedReport.objects.get_or_create(
        name="Matrix pipeline report",
        defaults={
            "owner": w.manager,
            "record_type": "opportunities",
            "columns": ["name", "partner", "amount"],
            "group_by": "partner",
            "shared_with_partners": True,
        },
    )
    return {"pk": report.pk}


# A shared report: whoever may open it runs it on their own rows.
REPORT_VIEWERS = everyone(200, anonymous=LOGIN, member_a=404, other_manager=404)
REPORT_EDITORS = {**REPORT_VIEWERS, "partner_admin_a": 403, "partner_admin_b": 403}


def _analytics_row(model: str):
    """One row of an analytics model for its admin pages (KPI definitions come seeded)."""
    from analytics import kpis
    from analytics.models import CurrencyRate, Goal, KpiDefinition, PartnerScore, SavedReport

    account = PartnerAccount.objects.get(name="Northwind Systems")
    quarter = kpis.Period.current_quarter().start
    if model == "kpidefinition":
        return KpiDefinition.objects.order_by("pk").first()
    if model == "currencyrate":
        return CurrencyRate.objects.create(currency="EUR", rate="1.08")
    if model == "goal":
        return Goal.objects.create(account=account, quarter=quarter, kpi="won_revenue", target=1)
    if model == "partnerscore":
        return PartnerScore.objects.create(
            account=account, quarter=quarter, computed_at=timezone.now()
        )
    return SavedReport.objects.create(
        name="Matrix admin report", record_type="partners", columns=["name"]
    )


def _alert_rule():
    from analytics.models import AlertRule

    rule, _ = AlertRule.objects.get_or_create(
        name="Matrix alert rule", defaults={"condition": "registration_waiting", "threshold": 48}
    )
    return rule


def _alert_of_a_row():
    from analytics.models import Alert

    alert, _ = Alert.objects.get_or_create(
        rule=_alert_rule(),
        subject="registration:matrix",
        defaults={
            "account": PartnerAccount.objects.get(name="Northwind Systems"),
            "title": "Matrix alert",
            "why": "Waiting 50 h for a decision",
            "action": "Approve, return or reject it",
        },
    )
    return alert


def alert_of_a(w):
    """An alert on A for its manager: the manager side acts on it; A's partner admin (the alert
    is not addressed to partner admins), the other company and Otto get 404; members 403."""
    return {"pk": _alert_of_a_row().pk}


# Alerts: internal users and partner admins; members have none (403).
ALERT_ACTION = {
    **A_PAGE_FOR_VIEWERS,
    "member_a": 403,
    "partner_admin_a": 404,
    "manager": REDIRECT,
    "admin": REDIRECT,
}


def _matrix_survey() -> dict:
    """A survey asked to A's member (unanswered: the personal link of the matrix) and to A's
    partner admin (answered: the response row of the admin pages)."""
    from analytics.models import (
        QuestionKind,
        Survey,
        SurveyDistribution,
        SurveyInvitation,
        SurveyQuestion,
        SurveyResponse,
        SurveySettings,
    )

    survey, created = Survey.objects.get_or_create(title="Matrix survey")
    if created:
        SurveyQuestion.objects.create(survey=survey, kind=QuestionKind.NPS, text="Recommend?")
    distribution, _ = SurveyDistribution.objects.get_or_create(
        survey=survey, name="Matrix distribution", defaults={"trigger": "once"}
    )
    account = PartnerAccount.objects.get(name="Northwind Systems")
    rows = {"survey": survey, "distribution": distribution}
    rows["settings"] = SurveySettings.objects.order_by("pk").first() or (
        SurveySettings.objects.create()
    )
    for key, email in (
        ("invitation", "jamie@northwind.example"),
        ("answered", "alex@northwind.example"),
    ):
        user = get_user_model().objects.get(email=email)
        rows[key], _ = SurveyInvitation.objects.get_or_create(
            distribution=distribution,
            user=user,
            occasion="once",
            defaults={
                "survey": survey,
                "account": account,
                "expires_at": timezone.now() + timedelta(days=30),
            },
        )
    answered = rows.pop("answered")
    rows["response"], _ = SurveyResponse.objects.get_or_create(
        invitation=answered,
        defaults={"survey": survey, "account": account, "user": answered.user, "nps": 9},
    )
    return rows


def survey_of_matrix(w):
    return {"pk": _matrix_survey()["survey"].pk}


def survey_link_of_member_a(w):
    """Jamie's personal link: it works signed out and for Jamie; anyone else signed in is
    refused (403) without learning whose it is."""
    from analytics import surveys

    return {"token": surveys.link_token(_matrix_survey()["invitation"])}


def _review_of_a_row():
    from analytics import kpis
    from analytics.models import QuarterlyReview

    review, _ = QuarterlyReview.objects.get_or_create(
        account=PartnerAccount.objects.get(name="Northwind Systems"),
        quarter=kpis.Period.current_quarter().previous().start,
        defaults={"figures": {"label": "Matrix quarter", "goals": [], "kpis": [], "wins": []}},
    )
    return review


def review_of_a(w):
    """A's review of last quarter: its people read it, its manager (or an admin) edits it, its
    partner admins acknowledge it; B and Otto get 404."""
    return {"pk": _review_of_a_row().pk}


# A review: acknowledged by A's partner admins only (once: later posts say so and redirect).
REVIEW_ACKNOWLEDGE = {
    **A_PAGE_FOR_VIEWERS,
    "member_a": 403,
    "partner_admin_a": REDIRECT,
    "manager": 403,
    "admin": 403,
}


def proposal_of_a(w):
    """A's partner admin's proposal for this quarter, waiting for its manager."""
    from analytics import kpis
    from analytics.models import Goal

    goal, _ = Goal.objects.get_or_create(
        account=w.a,
        quarter=kpis.Period.current_quarter().start,
        kpi="deals_registered",
        defaults={"target": 5, "status": "proposed", "proposed_by": w.partner_admin_a},
    )
    return {"pk": goal.pk}


# Goals: the manager side sets, agrees and removes; A's partner admin withdraws a proposal.
A_GOAL_ACTION = {
    **A_PAGE_FOR_EDITORS,
    "partner_admin_a": 403,
    "manager": REDIRECT,
    "admin": REDIRECT,
}


CASES: dict[str, Case] = {
    # --- project ------------------------------------------------------------------------------
    "home": Case(
        everyone(
            Redirect("partners:partner_list"),
            anonymous=LOGIN,
            **dict.fromkeys(PARTNERS, Redirect("partners:portal_home")),
        ),
        why="Each role lands on its own start page.",
    ),
    "healthz": Case(everyone(200), why="The load balancer's probe needs no login."),
    # --- the bell -------------------------------------------------------------------------------
    "notifications": Case(everyone(200, anonymous=LOGIN), why="Each person's own list."),
    "notifications_menu": Case(
        everyone(200, anonymous=LOGIN), why="The bell's dropdown (HTMX): the latest of one's own."
    ),
    "notifications_read_all": Case(
        everyone(REDIRECT, anonymous=LOGIN), method="POST", why="Marks only one's own read."
    ),
    "notification_open": Case(
        everyone(404, anonymous=LOGIN, partner_admin_a=REDIRECT),
        kwargs=notification_of_partner_admin_a,
        why="One person's notification: anybody else gets 404, whatever their role.",
    ),
    "notification_preferences": Case(
        everyone(200, anonymous=LOGIN), why="Each person's own email preferences."
    ),
    "notification_preferences_signed": Case(
        everyone(403, anonymous=200, member_a=200),
        kwargs=lambda w: {"token": preferences_token(w.member_a)},
        why="The signed link of an email works signed out and for its person; anyone else "
        "signed in: 403, without learning whose it is.",
    ),
    "notification_unsubscribe": Case(
        everyone(403, anonymous=200, member_a=200),
        kwargs=lambda w: {"token": unsubscribe_token(w.member_a, ["surveys"])},
        why="List-Unsubscribe: the GET only asks to confirm; the signed token is the credential.",
    ),
    # --- partners -----------------------------------------------------------------------------
    "partners:portal_home": Case(
        everyone(200, anonymous=LOGIN, **dict.fromkeys(INTERNAL, Redirect("home"))),
        why="The portal is for partner users; internal users are sent to their own start.",
    ),
    "partners:company": Case(
        everyone(403, anonymous=LOGIN, **dict.fromkeys(PARTNERS, REDIRECT)),
        why="A partner's own company page; internal users have no company of their own.",
    ),
    "partners:partner_list": Case(MANAGER_PAGE, why="Manager pages: partner users get 403."),
    "partners:partner_export": Case(MANAGER_PAGE, why="The CSV of the same list."),
    "partners:partner": Case(A_PAGE_FOR_VIEWERS, kwargs=account_a),
    "partners:partner_edit": Case(
        A_PAGE_FOR_EDITORS, kwargs=account_a, why="Members see their company but can't edit it."
    ),
    "partners:partner_status": Case(
        {**A_ACTION_FOR_EDITORS, "partner_admin_a": 403},
        kwargs=account_a,
        method="POST",
        data=lambda w: {"status": AccountStatus.ACTIVE, "reason": ""},
        why="Only the internal side changes an account's status; its own admin gets 403.",
    ),
    "partners:contact_add": Case(A_PAGE_FOR_EDITORS, kwargs=account_a),
    "partners:contact_edit": Case(A_PAGE_FOR_EDITORS, kwargs=plain_contact_a),
    "partners:contact_invite": Case(
        A_ACTION_FOR_EDITORS, kwargs=plain_contact_a, method="POST", why="Resends the link."
    ),
    "partners:contact_revoke": Case(A_ACTION_FOR_EDITORS, kwargs=plain_contact_a, method="POST"),
    "partners:contact_disable": Case(A_ACTION_FOR_EDITORS, kwargs=member_contact_a, method="POST"),
    "partners:contact_enable": Case(A_ACTION_FOR_EDITORS, kwargs=member_contact_a, method="POST"),
    "partners:invitation_accept": Case(
        everyone(200),
        kwargs=lambda w: {"token": w.invitation_token},
        why="The secret link is the credential; the page shows nothing of anyone else.",
    ),
    # --- deals: leads -------------------------------------------------------------------------
    "deals:lead_list": Case(
        everyone(200, anonymous=LOGIN),
        why="Partners see their account's leads, managers the pool and their partners' leads.",
    ),
    "deals:lead_export": Case(everyone(200, anonymous=LOGIN), why="The CSV of the same list."),
    "deals:lead": Case(A_PAGE_FOR_VIEWERS, kwargs=lead_of_a),
    "deals:lead_add": Case(MANAGER_PAGE, why="Leads come from the vendor: partners get 403."),
    "deals:lead_accept": Case(
        A_LEAD_ANSWER, kwargs=lead_of_a, method="POST", why="Accepted, then back to the lead."
    ),
    "deals:lead_reject": Case(
        A_LEAD_ANSWER,
        kwargs=lead_of_a,
        method="POST",
        data=lambda w: {"reason": "Outside our region"},
    ),
    "deals:lead_assign": Case(
        {
            **A_PAGE_FOR_VIEWERS,
            "member_a": 403,
            "partner_admin_a": 403,
            "manager": REDIRECT,
            "admin": REDIRECT,
        },
        kwargs=lead_of_a,
        method="POST",
        data=lambda w: {"account": w.a.pk},
        why="Internal only; an assigned lead can't be re-assigned: the refusal is a message.",
    ),
    "deals:lead_lost": Case(
        {
            **A_PAGE_FOR_VIEWERS,
            **dict.fromkeys(("member_a", "partner_admin_a"), REDIRECT),
            "manager": REDIRECT,
            "admin": REDIRECT,
        },
        kwargs=accepted_lead_of_a,
        method="POST",
        data=lambda w: {"reason": "Chose a competitor"},
        why="The partner holding it or its manager closes an accepted lead.",
    ),
    "deals:lead_route": Case(
        {
            **A_PAGE_FOR_VIEWERS,
            "member_a": 403,
            "partner_admin_a": 403,
            "manager": REDIRECT,
            "admin": REDIRECT,
        },
        kwargs=lead_of_a,
        method="POST",
        why="Internal only; A's lead is assigned, not in the pool: the refusal is a message.",
    ),
    "deals:lead_route_all": Case(
        everyone(REDIRECT, anonymous=LOGIN, **dict.fromkeys(PARTNERS, 403)),
        method="POST",
        why="A manager routes the waiting leads they see among their partners; partners 403.",
    ),
    # --- deals: opportunities and the pipeline ------------------------------------------------
    "deals:opportunity_list": Case(
        everyone(200, anonymous=LOGIN),
        why="Partners see their pipeline, managers their partners' (visible_to).",
    ),
    "deals:opportunity_export": Case(
        everyone(200, anonymous=LOGIN), why="The CSV of the same list."
    ),
    "deals:opportunity_board": Case(
        everyone(200, anonymous=LOGIN), why="The same pipeline by stage."
    ),
    "deals:opportunity": Case(
        A_PAGE_FOR_VIEWERS, kwargs=opportunity_of_a, why="Shared with A: its member reads it."
    ),
    "deals:opportunity_move": Case(
        A_ACTION_FOR_EDITORS,
        kwargs=opportunity_of_a,
        method="POST",
        data=proposal_stage,
        why="The board's move (HTMX); a member may not move a colleague's deal (403).",
    ),
    "deals:opportunity_close": Case(
        A_ACTION_FOR_EDITORS,
        kwargs=opportunity_of_a,
        method="POST",
        data=lambda w: {"won": "yes", "reason": "Signed"},
    ),
    "deals:lead_convert": Case(
        {
            **A_PAGE_FOR_VIEWERS,
            **dict.fromkeys(("member_a", "partner_admin_a", "manager", "admin"), REDIRECT),
        },
        kwargs=accepted_lead_of_a,
        method="POST",
        why="The partner holding the accepted lead, or its manager, converts it.",
    ),
    "deals:registration_convert": Case(
        A_ACTION_FOR_EDITORS,
        kwargs=approved_registration_of_a,
        method="POST",
        why="Its creator, a partner admin of A or A's manager; a colleague member gets 403.",
    ),
    # --- deals: registrations -----------------------------------------------------------------
    "deals:registration_list": Case(
        everyone(200, anonymous=LOGIN),
        why="Partners see their registrations (the Deals tab), managers their partners'.",
    ),
    "deals:registration_export": Case(
        everyone(200, anonymous=LOGIN), why="The CSV of the same list (rows by visible_to)."
    ),
    "deals:registration_add": Case(
        everyone(200, anonymous=LOGIN, **dict.fromkeys(INTERNAL, 403)),
        why="Partners register deals; the vendor's side decides them.",
    ),
    "deals:registration_precheck": Case(
        everyone(200, anonymous=LOGIN),
        why="HTMX: open / under review / registered until — never whose (no object in the URL).",
    ),
    "deals:review_queue": Case(MANAGER_PAGE, why="The manager's queue: partners get 403."),
    "deals:registration": Case(
        A_PRIVATE_REGISTRATION,
        kwargs=submitted_registration_of_a,
        why="Not shared: a colleague member gets 404, like another company.",
    ),
    "deals:registration_edit": Case(
        {**A_PRIVATE_REGISTRATION, "manager": 403, "admin": 403},
        kwargs=draft_registration_of_a,
        why="Its creator or a partner admin of A edits; the vendor's side may only read.",
    ),
    "deals:registration_submit": Case(
        {**A_PRIVATE_REGISTRATION, "partner_admin_a": REDIRECT, "manager": 403, "admin": 403},
        kwargs=draft_registration_of_a,
        method="POST",
    ),
    "deals:registration_withdraw": Case(
        {**A_PRIVATE_REGISTRATION, "partner_admin_a": REDIRECT, "manager": 403, "admin": 403},
        kwargs=submitted_registration_of_a,
        method="POST",
        data=lambda w: {"reason": "Customer postponed"},
    ),
    "deals:registration_conflicts": Case(
        {**A_PRIVATE_REGISTRATION, "partner_admin_a": 403},
        kwargs=submitted_registration_of_a,
        why="The side-by-side view names other partners: managers only (the partner: 403).",
    ),
    "deals:registration_decide": Case(
        {
            **A_PRIVATE_REGISTRATION,
            "partner_admin_a": 403,
            "manager": REDIRECT,
            "admin": REDIRECT,
        },
        kwargs=submitted_registration_of_a,
        method="POST",
        data=lambda w: {"decision": "approve", "reason": "Matrix approval"},
        why="A partner can never approve its own registration.",
    ),
    "deals:registration_extend": Case(
        {**A_ACTION_FOR_EDITORS, "manager": 403, "admin": 403},
        kwargs=protected_registration_of_a,
        method="POST",
        data=lambda w: {
            "requested_until": (timezone.localdate() + timedelta(days=90)).isoformat(),
            "reason": "The board meets later",
        },
        why="Shared: the member sees it but only its creator or a partner admin asks (403).",
    ),
    "deals:extension_decide": Case(
        {**A_PAGE_FOR_VIEWERS, "member_a": 403, "partner_admin_a": 403}
        | {"manager": REDIRECT, "admin": REDIRECT},
        kwargs=extension_of_a,
        method="POST",
        data=lambda w: {"grant": "yes", "reason": ""},
        why="The manager (or an admin) grants or refuses; the partner sees it (403).",
    ),
    # --- training: courses, lessons, quizzes, my learning ------------------------------------
    "training:course_list": Case(
        everyone(200, anonymous=LOGIN), why="The catalogue: courses of one's tier (all: internal)."
    ),
    "training:my_learning": Case(
        everyone(200, anonymous=LOGIN), why="One's own enrollments and certificates only."
    ),
    "training:course": Case(OTHER_TIER_PAGE, kwargs=platinum_course),
    "training:course_enroll": Case(OTHER_TIER_ACTION, kwargs=platinum_course, method="POST"),
    "training:course_enroll_people": Case(
        everyone(200, anonymous=LOGIN, member_a=403),
        kwargs=lambda w: {"slug": _training_rows()["course"].slug},
        method="POST",
        why="Partner admins enroll colleagues, internal users partner users (an empty form: "
        "its field error); members get 403.",
    ),
    "training:lesson": Case(OTHER_TIER_PAGE, kwargs=platinum_lesson),
    "training:lesson_complete": Case(OTHER_TIER_ACTION, kwargs=platinum_lesson, method="POST"),
    "training:lesson_attachment": Case(
        OTHER_TIER_PAGE,
        kwargs=platinum_lesson_file,
        why="A lesson's file: the same 404 as its lesson for partners of other tiers.",
    ),
    "training:quiz": Case(
        OTHER_TIER_PAGE, kwargs=platinum_quiz, why="Questions without any hint of the answers."
    ),
    "training:quiz_submit": Case(
        OTHER_TIER_ACTION,
        kwargs=platinum_quiz,
        method="POST",
        data=lambda w: {"q-1": ["1"]},
        why="Graded on the server; internal users take no quiz (403).",
    ),
    # --- training: certificates and the managers' training status ---------------------------
    "training:certificate": Case(
        A_PAGE_FOR_VIEWERS,
        kwargs=certificate_of_a,
        why="The holder, their partner admins, their manager, admins; others get 404.",
    ),
    "training:certificate_verify": Case(
        MANAGER_PAGE, why="Internal users verify numbers (of the partners they see)."
    ),
    "training:status": Case(MANAGER_PAGE, why="The managers' training status of their partners."),
    "training:status_export": Case(MANAGER_PAGE, why="The CSV of the same list."),
    # --- training: onboarding checklists ----------------------------------------------------
    "training:onboarding": Case(
        everyone(403, anonymous=LOGIN, **dict.fromkeys(PARTNERS, 200)),
        why="One's own company's checklist; internal users open a partner's (403 here).",
    ),
    "training:onboarding_account": Case(
        A_PAGE_FOR_VIEWERS, kwargs=account_a, why="A's checklist: its people, its manager, admins."
    ),
    "training:onboarding_tick": Case(
        {**A_PAGE_FOR_VIEWERS, "member_a": 403, "manager": 403, "admin": 403}
        | {"partner_admin_a": REDIRECT},
        kwargs=onboarding_item_of_a,
        method="POST",
        data=lambda w: {"done": "1"},
        why="Manual steps are ticked by the account's partner admins only; others who see it: 403.",
    ),
    # --- training: resource library and FAQ ------------------------------------------------
    "training:resource_list": Case(
        everyone(200, anonymous=LOGIN), why="Resources of one's tier and account (all: internal)."
    ),
    "training:resource": Case(A_RESOURCE, kwargs=resource_of_a, why="Restricted to account A."),
    "training:resource_download": Case(
        A_RESOURCE, kwargs=resource_of_a, why="The file itself: the same 404 as its page."
    ),
    "training:article_list": Case(
        everyone(200, anonymous=LOGIN), why="The FAQ articles of one's tier (all: internal)."
    ),
    "training:article": Case(
        OTHER_TIER_PAGE,
        kwargs=lambda w: {"slug": _platinum_article().slug},
        why="Another tier's article: 404 for every partner, a preview for internal users.",
    ),
    # --- analytics: the partner scorecard and chart data -----------------------------------
    "analytics:scorecard": Case(
        everyone(200, anonymous=LOGIN, **dict.fromkeys(INTERNAL, Redirect("analytics:dashboard"))),
        why="The portal's Dashboard tab: one's own company; internal users go to their dashboard.",
    ),
    "analytics:account_scorecard": Case(
        A_PAGE_FOR_VIEWERS, kwargs=account_a, why="A's scorecard: its people, manager, admins."
    ),
    "analytics:chart_csv": Case(
        A_PAGE_FOR_VIEWERS,
        path=scorecard_chart_of_a,
        why="One chart's data (scorecard-stages of A); every key is checked as partner_admin_b "
        "in tests/analytics/test_scorecard.py.",
    ),
    # --- analytics: the manager dashboard and the ranked table ----------------------------
    "analytics:dashboard": Case(
        MANAGER_PAGE, why="The book of the viewer (visible_to); internal only, partners 403."
    ),
    "analytics:ranking": Case(MANAGER_PAGE, why="Every partner of the book ranked by its KPIs."),
    "analytics:ranking_export": Case(MANAGER_PAGE, why="The CSV of the same ranking."),
    # --- analytics: saved reports ---------------------------------------------------------
    "analytics:report_list": Case(
        everyone(200, anonymous=LOGIN, member_a=403),
        why="Internal users: their own and shared reports; partner admins: those shared with them.",
    ),
    "analytics:report_add": Case(MANAGER_PAGE, why="Reports are defined by the internal side."),
    "analytics:report": Case(
        REPORT_VIEWERS, kwargs=shared_report, why="Rows from the viewer's visible_to, not Maya's."
    ),
    "analytics:report_edit": Case(
        REPORT_EDITORS, kwargs=shared_report, why="Its owner or an admin; partner admins: 403."
    ),
    "analytics:report_delete": Case(
        {**REPORT_EDITORS, "manager": REDIRECT, "admin": REDIRECT},
        kwargs=shared_report,
        method="POST",
        why="Its owner or an admin, then back to the list.",
    ),
    "analytics:report_export_csv": Case(
        REPORT_VIEWERS, kwargs=shared_report, why="Every row the viewer may see, as CSV."
    ),
    "analytics:report_export_xlsx": Case(
        REPORT_VIEWERS, kwargs=shared_report, why="The same rows as a spreadsheet."
    ),
    # --- analytics: quarterly goals ---------------------------------------------------------
    "analytics:goals": Case(
        everyone(
            200, anonymous=LOGIN, **dict.fromkeys(INTERNAL, Redirect("partners:partner_list"))
        ),
        why="One's own company's goals; internal users open a partner's from the partner list.",
    ),
    "analytics:account_goals": Case(
        {**A_PAGE_FOR_EDITORS, "partner_admin_a": 403},
        kwargs=account_a,
        why="A's goals for its manager and admins; A's people use their own goals page (403).",
    ),
    "analytics:goal_accept": Case(
        A_GOAL_ACTION,
        kwargs=proposal_of_a,
        method="POST",
        why="The manager side agrees to a proposal, then back to the partner's goals.",
    ),
    "analytics:goal_delete": Case(
        {**A_GOAL_ACTION, "partner_admin_a": REDIRECT},
        kwargs=proposal_of_a,
        method="POST",
        why="The manager side removes; A's partner admin withdraws its own proposal.",
    ),
    # --- analytics: quarterly goal reviews -------------------------------------------------
    "analytics:review_list": Case(
        everyone(200, anonymous=LOGIN),
        why="Partners: their company's reviews; internal users: the reviews of their book.",
    ),
    "analytics:review": Case(
        A_PAGE_FOR_VIEWERS, kwargs=review_of_a, why="A's QBR page: its people, manager, admins."
    ),
    "analytics:review_edit": Case(
        {**A_PAGE_FOR_EDITORS, "partner_admin_a": 403},
        kwargs=review_of_a,
        why="Comments and next quarter's targets: the manager or an admin; A's people 403.",
    ),
    "analytics:review_acknowledge": Case(
        REVIEW_ACKNOWLEDGE,
        kwargs=review_of_a,
        method="POST",
        why="A's partner admins acknowledge it; the member and the internal side see it (403).",
    ),
    # --- analytics: feedback surveys --------------------------------------------------------
    "analytics:survey_list": Case(
        everyone(200, anonymous=LOGIN),
        why="Partners: their own open invitations and answers; internal users: every survey "
        "with counts over their partners.",
    ),
    "analytics:survey_results": Case(
        everyone(404, anonymous=LOGIN, **dict.fromkeys(INTERNAL, 200)),
        kwargs=survey_of_matrix,
        why="Internal only (Survey.visible_to); figures from the viewer's partners.",
    ),
    "analytics:survey_answer": Case(
        everyone(403, anonymous=200, member_a=200),
        kwargs=survey_link_of_member_a,
        why="The personal link works signed out and for its person; anyone else signed in: 403.",
    ),
    "analytics:alert_list": Case(
        everyone(200, anonymous=LOGIN, member_a=403),
        why="Internal users' alerts on their partners; partner admins' own company's; not members.",
    ),
    "analytics:alert_acknowledge": Case(
        ALERT_ACTION, kwargs=alert_of_a, method="POST", why="Acknowledged by whoever sees it."
    ),
    "analytics:alert_snooze": Case(
        ALERT_ACTION,
        kwargs=alert_of_a,
        method="POST",
        data=lambda w: {"length": "1d"},
        why="Snoozed by whoever sees it.",
    ),
    # --- allauth: sign-in, passwords, email (answers checked against allauth 65.21) ------------
    "account_login": Case(
        everyone(Redirect("home"), anonymous=200),
        why="Signed-in users are sent on (ACCOUNT_AUTHENTICATED_LOGIN_REDIRECTS).",
    ),
    "account_logout": Case(
        everyone(200, anonymous=LOGIN),
        why="GET shows the confirmation (logging out needs a POST); anonymous has nothing to end.",
    ),
    "account_inactive": Case(everyone(200)),
    "account_signup": Case(
        everyone(Redirect("home"), anonymous=200),
        why="No public sign-up: the closed page for visitors, home for signed-in users.",
    ),
    "account_reauthenticate": Case(everyone(200, anonymous=LOGIN)),
    "account_email": Case(everyone(200, anonymous=LOGIN)),
    "account_email_verification_sent": Case(everyone(200)),
    "account_change_password": Case(everyone(200, anonymous=LOGIN)),
    "account_set_password": Case(
        everyone(Redirect("account_change_password"), anonymous=LOGIN),
        why="Everyone has a password already: set becomes change.",
    ),
    "account_reset_password": Case(everyone(200)),
    "account_confirm_login_code": Case(
        everyone(Redirect("home"), anonymous=LOGIN),
        why="No login by code is under way (and login by code is off).",
    ),
    "account_confirm_email": Case(
        everyone(200), kwargs=lambda w: {"key": w.confirmation_key}, why="Confirms on POST only."
    ),
    "account_reset_password_from_key_done": Case(everyone(200)),
    "account_reset_password_from_key": Case(
        everyone(REDIRECT),
        kwargs=lambda w: {"uidb36": w.reset_uidb36, "key": w.reset_key},
        why="A valid key is moved into the session and the visitor redirected to set-password.",
    ),
    "account_reset_password_done": Case(everyone(200)),
    # --- allauth.mfa ---------------------------------------------------------------------------
    "mfa_index": Case(everyone(200, anonymous=LOGIN)),
    "mfa_authenticate": Case(
        everyone(Redirect("home"), anonymous=LOGIN),
        why="Only during a login that waits for its second factor.",
    ),
    "mfa_reauthenticate": Case(
        everyone(REAUTHENTICATE, anonymous=LOGIN),
        why="Nobody here has a second factor: confirming is done with the password.",
    ),
    "mfa_activate_totp": Case(
        everyone(REAUTHENTICATE, anonymous=LOGIN),
        why="Changing the second factor needs a recent sign-in (force_login records none).",
    ),
    "mfa_deactivate_totp": Case(everyone(404, anonymous=LOGIN), why="Nobody has TOTP here."),
    "mfa_view_recovery_codes": Case(everyone(404, anonymous=LOGIN)),
    "mfa_generate_recovery_codes": Case(everyone(REAUTHENTICATE, anonymous=LOGIN)),
    "mfa_download_recovery_codes": Case(everyone(404, anonymous=LOGIN)),
    # --- Django admin: the site's own pages (per-model pages: see admin_model_rule) -----------
    "admin:index": Case(everyone(ADMIN_LOGIN, admin=200)),
    "admin:login": Case(
        {
            "anonymous": LOGIN,
            **dict.fromkeys(NOT_STAFF, 403),
            "admin": Redirect("admin:index"),
        },
        why="allauth's secure_admin_login: sign in through allauth; 403 for non-staff.",
    ),
    "admin:logout": Case(
        everyone(Redirect("admin:index"), admin=405),
        why="Logging out is a POST; non-staff are sent to the admin index (and so to login).",
    ),
    "admin:password_change": Case(everyone(ADMIN_LOGIN, admin=200)),
    "admin:password_change_done": Case(everyone(ADMIN_LOGIN, admin=200)),
    "admin:autocomplete": Case(
        everyone(ADMIN_LOGIN, admin=403), why="Without a model and field it refuses."
    ),
    "admin:jsi18n": Case(everyone(ADMIN_LOGIN, admin=200)),
    "admin:view_on_site": Case(
        everyone(ADMIN_LOGIN, admin=404),
        kwargs=lambda w: {
            "content_type_id": ContentType.objects.get_for_model(PartnerAccount).pk,
            "object_id": w.a.pk,
        },
        why="Partner accounts have no public URL to jump to.",
    ),
    "admin:app_list": Case(
        everyone(ADMIN_LOGIN, admin=200), kwargs=lambda w: {"app_label": "auth"}
    ),
    "admin:auth_user_password_change": Case(
        everyone(ADMIN_LOGIN, admin=200),
        kwargs=lambda w: {"id": w.admin_rows["prm.user"]},
        why="UserAdmin's own extra view: setting someone's password is for admins only.",
    ),
    "admin:prm_failedtask_rerun": Case(
        everyone(ADMIN_LOGIN, admin=REDIRECT),
        kwargs=lambda w: {"object_id": w.admin_rows["prm.failedtask"]},
        method="POST",
        why="FailedTaskAdmin's re-run button: admins only, back to the task's page.",
    ),
    "admin/(?P<url>.*)$": Case(
        everyone(ADMIN_LOGIN, admin=404), path=lambda w: "/admin/no-such-page/"
    ),
}

#: The standard pages of every ModelAdmin (None: the unnamed "<id>/" pattern, a redirect to the
#: change page, kept for old bookmarks).
ADMIN_MODEL_PAGES = ("changelist", "add", "history", "delete", "change", None)


def _admin_answer(model_admin, page) -> int | Redirect:
    """What the admin (a superuser) gets: the page, or 403 where the ModelAdmin declares the
    action closed (read-only admins: the audit trail, guardian's rows, the outbox)."""
    if page is None:
        return REDIRECT
    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    if page == "add" and not model_admin.has_add_permission(request):
        return 403
    if page == "delete" and not model_admin.has_delete_permission(request):
        return 403
    return 200


def admin_model_rule(route: Route) -> Case | None:
    """Every standard page of every ModelAdmin: admins get the page, nobody else gets in.

    Anonymous and non-staff users are sent to the admin's login (``admin_view``); the admin gets
    each page for a real row of the model. Extra views a ModelAdmin adds have no rule: they need
    an explicit case above.
    """
    model_admin = getattr(route.callback, "model_admin", None)
    if route.namespace != "admin" or model_admin is None:
        return None
    opts = model_admin.model._meta
    prefix = f"admin:{opts.app_label}_{opts.model_name}_"
    page = route.name.removeprefix(prefix) if route.name else None
    if route.name and not route.name.startswith(prefix):
        return None
    if page not in ADMIN_MODEL_PAGES:
        return None
    label = _label(model_admin.model)

    def object_id(w):
        if label not in w.admin_rows:
            raise AssertionError(
                f"No {label} row for the admin pages: add a factory to ADMIN_ROWS in this module."
            )
        return w.admin_rows[label]

    if page in ("changelist", "add"):
        kwargs, path = None, None
    elif page is None:
        kwargs = None

        def path(w):
            return f"/admin/{opts.app_label}/{opts.model_name}/{object_id(w)}/"
    else:
        path = None

        def kwargs(w):
            return {"object_id": object_id(w)}

    return Case(
        everyone(ADMIN_LOGIN, admin=_admin_answer(model_admin, page)),
        kwargs=kwargs,
        path=path,
        why="Django admin: only staff get in; the admin (superuser) may do everything.",
    )


RULES = [admin_model_rule]
ROUTES = {route.key: route for route in iter_routes()}
OF_ACCOUNT_A = {
    key
    for key, case in CASES.items()
    if case.kwargs
    in (
        account_a,
        plain_contact_a,
        member_contact_a,
        lead_of_a,
        accepted_lead_of_a,
        opportunity_of_a,
        approved_registration_of_a,
        draft_registration_of_a,
        submitted_registration_of_a,
        protected_registration_of_a,
        extension_of_a,
        certificate_of_a,
        onboarding_item_of_a,
        proposal_of_a,
        alert_of_a,
    )
}


def test_every_url_pattern_has_a_matrix_entry_and_no_entry_is_stale():
    problems = coverage_problems(ROUTES.values(), CASES, RULES)
    stale_rows = set(ADMIN_ROWS) - {_label(m) for m in admin.site._registry}
    problems += [f"ADMIN_ROWS has a factory for {label}, not in the admin" for label in stale_rows]
    assert not problems, "\n".join(problems)


def test_the_walker_finds_unnamed_and_namespaced_patterns_and_flags_gaps():
    assert {"home", "partners:partner", "account_login", "admin:index"} <= set(ROUTES)
    assert "admin/(?P<url>.*)$" in ROUTES  # unnamed: keyed by its pattern text
    assert ROUTES["partners:partner"].route == "partners/<int:pk>/"
    some = [ROUTES["home"], ROUTES["healthz"]]
    problems = coverage_problems(some, {"home": CASES["home"], "gone": CASES["healthz"]}, [])
    assert problems == [
        "no matrix entry for 'healthz' (healthz/)",
        "stale matrix entry 'gone': no URL pattern has this name any more",
    ]


@pytest.mark.parametrize("key", sorted(OF_ACCOUNT_A))
def test_another_companys_users_get_404_for_account_a(key):
    expect = CASES[key].expect
    assert expect["partner_admin_b"] == 404
    assert expect["other_manager"] == 404


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("key", sorted(ROUTES))
def test_url_answers_persona_as_declared(matrix_world, client, key, persona):
    route = ROUTES[key]
    case = case_for(route, CASES, RULES)
    assert case is not None, f"no matrix entry for {key!r} ({route.route})"
    url = case.url(route, matrix_world)
    check_resolves_to(route, url)
    if persona != "anonymous":
        # Whatever the request does to the session (log out, flush) is rolled back with the test.
        client.cookies[settings.SESSION_COOKIE_NAME] = matrix_world.sessions[persona]
    data = case.data(matrix_world) if case.data else {}
    if case.method == "POST":
        response = client.post(url, data, headers=case.headers)
    else:
        response = client.get(url, data, headers=case.headers)
    expected = case.expect[persona]
    location = response.headers.get("Location", "")
    assert answer_matches(expected, response), (
        f"{case.method} {url} as {persona}: expected {describe(expected)}, "
        f"got {response.status_code} {location}".rstrip()
    )
