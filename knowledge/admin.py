from __future__ import annotations

from django.contrib import admin

from .models import Article, ArticleUsage, ArticleVersion


class ArticleVersionInline(admin.TabularInline):
    model = ArticleVersion
    extra = 0
    can_delete = False
    fields = ["version", "title", "status", "saved_by", "saved_at", "note"]
    readonly_fields = fields


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "language", "department", "status", "version", "review_by"]
    list_filter = ["status", "language", "department"]
    search_fields = ["title", "slug", "body"]
    readonly_fields = ["version", "translation_group"]
    inlines = [ArticleVersionInline]

    def save_model(self, request, obj, form, change) -> None:  # type: ignore[no-untyped-def]
        # Through the service, so that admin edits also leave a version row.
        from .services import article_save

        article_save(
            slug=obj.slug,
            title=obj.title,
            body=obj.body,
            language=obj.language,
            department=obj.department,
            tags=obj.tags,
            example_questions=obj.example_questions,
            status=obj.status,
            owner=obj.owner,
            review_by=obj.review_by,
            actor=request.user,
            note="admin",
        )
        obj.pk = Article.objects.get(slug=obj.slug).pk


@admin.register(ArticleUsage)
class ArticleUsageAdmin(admin.ModelAdmin):
    list_display = ["article", "shown", "suggested", "used_in_reply", "auto_answered", "helpful_yes", "helpful_no"]
