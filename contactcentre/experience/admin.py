from django.contrib import admin

from .models import Question, Survey, SurveyInvitation, SurveyOptOut


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ("order", "code", "kind", "text", "scale_min", "scale_max", "scale_labels", "required", "is_active")


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_active")
    inlines = [QuestionInline]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = ("ticket", "status", "via", "skip_reason", "sent_at", "responded_at")
    list_filter = ("status", "via", "skip_reason")
    readonly_fields = [f.name for f in SurveyInvitation._meta.fields]


@admin.register(SurveyOptOut)
class SurveyOptOutAdmin(admin.ModelAdmin):
    list_display = ("address", "contact", "created_at")
