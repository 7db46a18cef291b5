"""Knowledge-base API for agents: search, list and detail."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import IsStaffAgent
from knowledge.models import Article
from knowledge.search import article_search


class ArticleListOutput(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")

    class Meta:
        model = Article
        fields = ["slug", "title", "language", "department", "tags", "status", "version", "updated_at"]


class ArticleDetailOutput(ArticleListOutput):
    class Meta(ArticleListOutput.Meta):
        fields = [*ArticleListOutput.Meta.fields, "body", "example_questions", "review_by", "translations"]

    translations = serializers.SerializerMethodField()

    def get_translations(self, obj: Article) -> list[dict[str, str]]:
        return [
            {"slug": a.slug, "language": a.language, "title": a.title}
            for a in Article.objects.filter(translation_group=obj.translation_group).exclude(pk=obj.pk)
        ]


class SearchHitOutput(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    language = serializers.CharField()
    department = serializers.CharField()
    score = serializers.FloatField()


class ArticleSearchView(APIView):
    permission_classes = [IsStaffAgent]

    @extend_schema(
        parameters=[OpenApiParameter("q", str), OpenApiParameter("lang", str, required=False)],
        responses=SearchHitOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        language = request.query_params.get("lang") or None
        if language not in (None, "sv", "en", "fi"):
            raise serializers.ValidationError({"lang": "sv, en or fi"})
        if not query:
            return Response([])
        hits = article_search(query=query[:500], language=language, limit=10)
        return Response(SearchHitOutput(hits, many=True).data)


class ArticleListView(APIView):
    permission_classes = [IsStaffAgent]

    @extend_schema(responses=ArticleListOutput(many=True))
    def get(self, request: Request) -> Response:
        qs = Article.objects.select_related("department").order_by("title")
        if status := request.query_params.get("status"):
            qs = qs.filter(status=status)
        if department := request.query_params.get("department"):
            qs = qs.filter(department__code=department)
        if language := request.query_params.get("lang"):
            qs = qs.filter(language=language)
        return Response(ArticleListOutput(qs, many=True).data)


class ArticleDetailView(APIView):
    permission_classes = [IsStaffAgent]

    @extend_schema(responses=ArticleDetailOutput)
    def get(self, request: Request, slug: str) -> Response:
        article = get_object_or_404(Article.objects.select_related("department"), slug=slug)
        return Response(ArticleDetailOutput(article).data)


urlpatterns = [
    path("knowledge/search/", ArticleSearchView.as_view(), name="knowledge-search"),
    path("knowledge/articles/", ArticleListView.as_view(), name="knowledge-article-list"),
    path("knowledge/articles/<slug:slug>/", ArticleDetailView.as_view(), name="knowledge-article-detail"),
]
